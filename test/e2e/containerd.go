package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/ocicred/ocicred/test/e2e/subproc"
)

// Containerd is a containerd (Debian 12's 1.6, with ctr) running as the
// test's child with its own root, state and socket. Its CRI plugin reads
// hosts.toml files from HostsDir (config_path), so crictl pulls go through
// the same files as `ctr image pull --hosts-dir`.
type Containerd struct {
	Socket   string
	HostsDir string
	ctr      string
	crictl   string
	dir      string
	proc     *subproc.Proc
}

// StartContainerd runs containerd for one test and returns once its socket
// answers; it is stopped when the test ends and its log is shown if the
// test failed. The test asks for containerdTools and root at its top (Need,
// RequireRoot): ctr and crictl are found here, before the first pull.
func StartContainerd(t testing.TB, hostsDir string) *Containerd {
	t.Helper()
	mustBeRoot(t, "containerd")
	bin := tool(t, "containerd")
	dir := t.TempDir()
	c := &Containerd{Socket: filepath.Join(shortTempDir(t), "containerd.sock"), HostsDir: hostsDir,
		ctr: tool(t, "ctr"), crictl: tool(t, "crictl"), dir: dir}
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(containerdConfig(dir, c.Socket, hostsDir)), 0o600); err != nil {
		t.Fatal(err)
	}
	proc, err := subproc.Start(exec.Command(bin, "--config", cfg))
	if err != nil {
		t.Fatalf("start containerd: %v", err)
	}
	c.proc = proc
	t.Cleanup(func() {
		if !proc.Exited() {
			// containerd exits on SIGTERM; how it exits is not under test.
			_ = proc.Stop(10 * time.Second)
		}
		if t.Failed() {
			t.Logf("containerd log:\n%s", indent(lastLines(proc.Output(), 60)))
		}
	})
	start := time.Now()
	if err := c.waitReady(20 * time.Second); err != nil {
		t.Fatalf("containerd: %v\n%s", err, proc.Output())
	}
	t.Logf("containerd %d ready on %s in %s; CRI config_path %s", proc.Pid(), c.Socket, time.Since(start).Round(time.Millisecond), hostsDir)
	return c
}

// containerdConfig is a version-2 config (containerd 1.6) that keeps every
// file in dir, turns off the plugins a pull does not need (and the opt
// plugin, which would write to /opt/containerd), and points CRI at hostsDir.
func containerdConfig(dir, socket, hostsDir string) string {
	return fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = [
  "io.containerd.internal.v1.opt",
  "io.containerd.internal.v1.tracing",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
]

[grpc]
  address = %q

[ttrpc]
  address = %q

[plugins."io.containerd.grpc.v1.cri"]
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %q
    conf_dir = %q
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), socket, socket+".ttrpc",
		filepath.Join(dir, "cni", "bin"), filepath.Join(dir, "cni", "conf"), hostsDir)
}

func (c *Containerd) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("unix", c.Socket, time.Second)
		if err == nil {
			_ = conn.Close()
			// The socket accepts before every plugin is up: ask for real.
			out, verr := exec.Command(c.ctr, "--address", c.Socket, "version").CombinedOutput()
			if verr == nil {
				return nil
			}
			err = fmt.Errorf("ctr version: %w: %s", verr, out)
		}
		select {
		case <-c.proc.Done():
			return fmt.Errorf("exited before its socket answered: %v", c.proc.Err())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("socket %s did not answer within %s: %w", c.Socket, timeout, err)
		}
	}
}

// Running reports whether the same containerd process is still up.
func (c *Containerd) Running() bool { return !c.proc.Exited() }

// Pid is containerd's process id.
func (c *Containerd) Pid() int { return c.proc.Pid() }

// CtrPull runs `ctr image pull --hosts-dir HOSTSDIR REF` in env's sandbox.
// ctr never calls a credential helper: only hosts.toml can authenticate it.
// When it succeeds, the image ctr stored under REF must be want's manifest,
// and containerd's content store must hold its manifest and every blob,
// whole (checkContent).
func (c *Containerd) CtrPull(t testing.TB, env *Env, ref string, want Image) Result {
	t.Helper()
	r := env.Run(t, "", c.ctr, "--address", c.Socket, "image", "pull", "--snapshotter", "native", "--hosts-dir", c.HostsDir, ref)
	if r.Err == nil {
		ls := env.Run(t, "", c.ctr, "--address", c.Socket, "image", "ls")
		if !imageListed(ls.Stdout, ref, want.Manifest) {
			t.Errorf("ctr image ls does not list %s at %s", ref, want.Manifest)
		}
		c.checkContent(t, env, "default", want)
	}
	return r
}

// imageListed reports whether `ctr image ls` output has a line for ref
// with digest.
func imageListed(out, ref, digest string) bool {
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == ref && slices.Contains(f, digest) {
			return true
		}
	}
	return false
}

// checkContent reads want's manifest and every blob back from
// containerd's content store in namespace (`ctr content get`) and checks
// each against its digest.
func (c *Containerd) checkContent(t testing.TB, env *Env, namespace string, want Image) {
	t.Helper()
	get := func(digest string) ([]byte, error) {
		r := env.RunQuiet("", c.ctr, "--address", c.Socket, "--namespace", namespace, "content", "get", digest)
		if r.Err != nil {
			return nil, fmt.Errorf("ctr content get: %w: %s", r.Err, r.Stderr)
		}
		return []byte(r.Stdout), nil
	}
	manifest, err := get(want.Manifest)
	if err != nil {
		t.Fatalf("containerd (namespace %s) holds no manifest %s: %v", namespace, want.Manifest, err)
	}
	checkWrittenBlobs(t, "containerd (namespace "+namespace+")", want, manifest, get)
}

// CtrRemove removes REF, when it is there, from ctr's namespace (the
// content goes with the next garbage collection).
func (c *Containerd) CtrRemove(t testing.TB, env *Env, ref string) {
	t.Helper()
	if ls := env.RunQuiet("", c.ctr, "--address", c.Socket, "image", "ls", "-q"); !slices.Contains(strings.Fields(ls.Stdout), ref) {
		return // not there
	}
	if r := env.Run(t, "", c.ctr, "--address", c.Socket, "image", "rm", "--sync", ref); r.Err != nil {
		t.Fatalf("ctr image rm: %v", r.Err)
	}
}

// CrictlPull runs `crictl pull REF` against containerd's CRI plugin, which
// finds hosts.toml through its config_path, and returns the manifest
// digest crictl reports for REF ("" when the pull failed). When it
// succeeds, the image id must be want's config digest, and the CRI's
// content store (namespace k8s.io) must hold every blob, whole.
func (c *Containerd) CrictlPull(t testing.TB, env *Env, ref string, want Image) (string, Result) {
	t.Helper()
	cfg := c.crictlConfig(t)
	r := env.Run(t, "", c.crictl, "--config", cfg, "pull", ref)
	if r.Err != nil {
		return "", r
	}
	inspect := env.Run(t, "", c.crictl, "--config", cfg, "inspecti", "-o", "json", ref)
	if inspect.Err != nil {
		t.Fatalf("crictl inspecti after a pull: %v", inspect.Err)
	}
	var img struct {
		Status struct {
			ID          string   `json:"id"`
			RepoDigests []string `json:"repoDigests"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(inspect.Stdout), &img); err != nil {
		t.Fatalf("crictl inspecti: %v", err)
	}
	if img.Status.ID != want.Config {
		t.Errorf("crictl: image id %s, want the pushed config %s", img.Status.ID, want.Config)
	}
	c.checkContent(t, env, "k8s.io", want)
	repo := ref[:strings.LastIndex(ref, ":")] // HOST:PORT/REPO:TAG without the tag
	for _, d := range img.Status.RepoDigests {
		if name, digest, ok := strings.Cut(d, "@"); ok && name == repo {
			return digest, r
		}
	}
	t.Fatalf("crictl inspecti: no repo digest for %s in %v", repo, img.Status.RepoDigests)
	return "", r
}

// CrictlRemove removes REF, when it is there, from the CRI image store.
func (c *Containerd) CrictlRemove(t testing.TB, env *Env, ref string) {
	t.Helper()
	if r := env.RunQuiet("", c.crictl, "--config", c.crictlConfig(t), "inspecti", ref); r.Err != nil {
		return // not there
	}
	if r := env.Run(t, "", c.crictl, "--config", c.crictlConfig(t), "rmi", ref); r.Err != nil {
		t.Fatalf("crictl rmi: %v", r.Err)
	}
}

// crictlConfig points crictl at this containerd, so that it reads neither
// /etc/crictl.yaml nor anything beside itself.
func (c *Containerd) crictlConfig(t testing.TB) string {
	path := filepath.Join(c.dir, "crictl.yaml")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	body := fmt.Sprintf("runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: 60\n", c.Socket, c.Socket)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// HostsFile is the part of a hosts.toml the daemon writes that the tests
// check.
type HostsFile struct {
	Raw    string
	Server string
	// Authorization is the header value of the [host."<server>"] table.
	Authorization string
	Mode          os.FileMode
}

// ReadHostsFile reads HOSTSDIR/HOST/hosts.toml; os.ErrNotExist when there is
// none.
func ReadHostsFile(hostsDir, host string) (HostsFile, error) {
	path := filepath.Join(hostsDir, host, "hosts.toml")
	data, err := os.ReadFile(path)
	if err != nil {
		return HostsFile{}, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return HostsFile{}, err
	}
	var doc struct {
		Server string `toml:"server"`
		Host   map[string]struct {
			Header map[string]any `toml:"header"`
		} `toml:"host"`
	}
	if err := toml.Unmarshal(data, &doc); err != nil {
		return HostsFile{}, fmt.Errorf("%s: %w", path, err)
	}
	h := HostsFile{Raw: string(data), Server: doc.Server, Mode: fi.Mode().Perm()}
	switch v := doc.Host[doc.Server].Header["Authorization"].(type) {
	case string:
		h.Authorization = v
	case []any:
		if len(v) == 1 {
			h.Authorization, _ = v[0].(string)
		}
	}
	if h.Authorization == "" {
		return h, fmt.Errorf("%s: no Authorization header under [host.%q]", path, doc.Server)
	}
	return h, nil
}

// WaitHostsFile polls until HOSTSDIR/HOST/hosts.toml exists and cond holds
// for it, or fails the test after timeout.
func WaitHostsFile(t testing.TB, hostsDir, host string, timeout time.Duration, what string, cond func(HostsFile) bool) HostsFile {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		h, err := ReadHostsFile(hostsDir, host)
		if err == nil && cond(h) {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/%s/hosts.toml: not %s within %s (last: %v)", hostsDir, host, what, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitNoHostsFile polls until HOSTSDIR/HOST is gone.
func WaitNoHostsFile(t testing.TB, hostsDir, host string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		_, err := os.Stat(filepath.Join(hostsDir, host))
		if errors.Is(err, os.ErrNotExist) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/%s still there after %s (%v)", hostsDir, host, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// SetContainerdHostsDir adds `containerd: {hostsDir: DIR}` to the ocicred
// config at path, written by WriteOcicredConfig or WriteECRConfig.
func SetContainerdHostsDir(t testing.TB, path, hostsDir string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, fmt.Sprintf("containerd:\n  hostsDir: %q\n%s", hostsDir, data))
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("(%d lines before)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
