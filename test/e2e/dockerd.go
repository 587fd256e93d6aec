package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/ocicred/ocicred/test/e2e/subproc"
)

// Dockerd is a private docker daemon: its own data root, exec root (where it
// starts its own containerd), socket, daemon.json and trust key, no bridge
// and no iptables, vfs storage. (Only the empty /run/docker/plugins folder,
// whose path dockerd hard-codes, lands outside the test's folders.) The docker CLI, not the daemon, calls the
// credential helper; the daemon only does the pull.
type Dockerd struct {
	Socket string
	env    *Env
	proc   *subproc.Proc
}

// StartDockerd runs dockerd as root and returns once it answers /_ping; it
// is stopped (SIGTERM) when the test ends, and its log is shown if the test
// failed. 127.0.0.0/8 is an insecure (plain-HTTP) registry for dockerd by
// default.
func StartDockerd(t testing.TB, env *Env) *Dockerd {
	t.Helper()
	mustBeRoot(t, "dockerd")
	bin := tool(t, "dockerd")
	dir := t.TempDir()
	short := shortTempDir(t) // the exec root holds containerd's socket
	// daemon.json keeps dockerd 20.10's trust key out of /etc/docker.
	cfg := filepath.Join(dir, "daemon.json")
	writeFile(t, cfg, fmt.Sprintf("{\"deprecated-key-path\": %q}\n", filepath.Join(dir, "key.json")))
	d := &Dockerd{Socket: filepath.Join(short, "docker.sock"), env: env}
	cmd := exec.Command(bin,
		"--config-file", cfg,
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(short, "exec"),
		"--pidfile", filepath.Join(dir, "docker.pid"),
		"--host", "unix://"+d.Socket,
		"--iptables=false", "--ip6tables=false", "--bridge=none", "--storage-driver=vfs",
	)
	cmd.Env = env.Environ()
	cmd.Dir = dir
	proc, err := subproc.Start(cmd)
	if err != nil {
		t.Fatalf("start dockerd: %v", err)
	}
	d.proc = proc
	t.Cleanup(func() {
		start := time.Now()
		if err := proc.Stop(30 * time.Second); err != nil {
			t.Logf("dockerd did not stop cleanly: %v", err)
		}
		t.Logf("dockerd stopped in %s", time.Since(start).Round(time.Millisecond))
		if t.Failed() {
			t.Logf("dockerd log:\n%s", env.Redact(indent(proc.Output())))
		}
	})
	start := time.Now()
	if err := d.waitReady(60 * time.Second); err != nil {
		t.Fatalf("dockerd: %v\n%s", err, indent(proc.Output()))
	}
	t.Logf("dockerd %d ready on %s in %s", proc.Pid(), d.Socket, time.Since(start).Round(time.Millisecond))
	return d
}

func (d *Dockerd) waitReady(timeout time.Duration) error {
	client := &http.Client{
		Timeout: 2 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", d.Socket)
		}},
	}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := client.Get("http://docker/_ping")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("/_ping: %s", resp.Status)
		}
		select {
		case <-d.proc.Done():
			return fmt.Errorf("exited before it answered: %v", d.proc.Err())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer on %s within %s: %w", d.Socket, timeout, err)
		}
	}
}

var pulledDigestRE = regexp.MustCompile(`(?m)^Digest: (sha256:[0-9a-f]{64})\s*$`)

// Pull runs `docker -H unix://SOCK pull REF` with the sandbox's DOCKER_CONFIG
// and returns the manifest digest docker reports ("Digest: …"). When it
// succeeds, what dockerd stored must be want: its image id is the digest
// of the config blob it wrote, and its layers' digests are those of the
// layers it unpacked (`docker image inspect`).
func (d *Dockerd) Pull(t testing.TB, ref string, want Image) (string, Result) {
	t.Helper()
	docker := tool(t, "docker")
	r := d.env.Run(t, "", docker, "-H", "unix://"+d.Socket, "pull", ref)
	if r.Err == nil {
		inspect := d.env.Run(t, "", docker, "-H", "unix://"+d.Socket, "image", "inspect", ref)
		checkStoredImage(t, "docker", inspect, want, func(id string) string { return id })
	}
	return reportedDigest(r), r
}

// checkStoredImage checks `docker|podman image inspect` output: the image
// id is want's config digest (written as id says) and the layers are
// want's diff ids.
func checkStoredImage(t testing.TB, client string, inspect Result, want Image, id func(config string) string) {
	t.Helper()
	var got []struct {
		ID     string `json:"Id"`
		RootFS struct {
			Layers []string
		}
	}
	if inspect.Err != nil {
		t.Fatalf("%s image inspect after a pull: %v", client, inspect.Err)
	}
	if err := json.Unmarshal([]byte(inspect.Stdout), &got); err != nil || len(got) != 1 {
		t.Fatalf("%s image inspect: %v (%d images)", client, err, len(got))
	}
	if got[0].ID != id(want.Config) {
		t.Errorf("%s stored image id %s, want the pushed config %s", client, got[0].ID, want.Config)
	}
	if !slices.Equal(got[0].RootFS.Layers, want.DiffIDs) {
		t.Errorf("%s stored layers %v, want the pushed %v", client, got[0].RootFS.Layers, want.DiffIDs)
	}
}

// reportedDigest is the "Digest: sha256:…" line that docker, helm and oras
// print after a pull or push, or "" when the run failed or printed none.
func reportedDigest(r Result) string {
	if r.Err != nil {
		return ""
	}
	if m := pulledDigestRE.FindStringSubmatch(r.Output()); m != nil {
		return m[1]
	}
	return ""
}
