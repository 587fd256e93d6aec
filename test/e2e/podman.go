package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// PodmanPull runs, as root, `podman pull --tls-verify=false REF` with its own
// fresh vfs storage (so every pull goes to the registry), cgroupfs and no
// events log (there is no systemd here), and returns the manifest digest of
// the image it stored (`podman image inspect`). podman finds credentials
// through $REGISTRY_AUTH_FILE, else its default auth files; it fails when
// DOCKER_CONFIG names a folder without config.json (facts.md).
//
// When it succeeds, what podman stored must be want: its image id is the
// config blob's digest and its layers the pushed diff ids.
func (e *Env) PodmanPull(t testing.TB, ref string, want Image) (string, Result) {
	t.Helper()
	mustBeRoot(t, "podman with its own storage")
	podman := tool(t, "podman")
	dir := shortTempDir(t) // podman refuses a runroot longer than 50 bytes
	global := []string{
		"--root", filepath.Join(dir, "root"),
		"--runroot", filepath.Join(dir, "run"),
		"--tmpdir", filepath.Join(dir, "tmp"),
		"--storage-driver", "vfs",
		"--cgroup-manager", "cgroupfs",
		"--events-backend", "none",
	}
	r := e.Run(t, "", podman, append(global, "pull", "--tls-verify=false", ref)...)
	if r.Err != nil {
		return "", r
	}
	inspect := e.Run(t, "", podman, append(global, "image", "inspect", ref)...)
	checkStoredImage(t, "podman", inspect, want, func(config string) string { return strings.TrimPrefix(config, "sha256:") })
	var got []struct{ Digest string }
	if err := json.Unmarshal([]byte(inspect.Stdout), &got); err != nil || len(got) != 1 {
		t.Fatalf("podman image inspect: %v", err)
	}
	return got[0].Digest, r
}
