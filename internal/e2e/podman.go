package e2e

import (
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
func (e *Env) PodmanPull(t testing.TB, ref string) (string, Result) {
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
	inspect := e.Run(t, "", podman, append(global, "image", "inspect", "--format", "{{.Digest}}", ref)...)
	if inspect.Err != nil {
		t.Fatalf("podman pulled %s but cannot inspect it: %v", ref, inspect.Err)
	}
	return strings.TrimSpace(inspect.Stdout), r
}
