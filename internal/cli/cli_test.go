package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ocicred/ocicred/daemon"
	"github.com/ocicred/ocicred/internal/localapi"
)

// ocicred runs the CLI in this process.
func ocicred(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

func writeFile(t *testing.T, path, body string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

const cliConfig = `registries:
  - {name: local, type: basic, endpoint: "http://127.0.0.1:5000", username: alice, passwordFile: PWFILE}
  - {name: pub, type: ecr, endpoint: public.ecr.aws, protected: false}
  - {name: gone, type: basic, endpoint: gone.example, username: bob, passwordFile: /nonexistent/pw}
`

func setupConfig(t *testing.T) (dir, cfg string) {
	dir = t.TempDir()
	pw := filepath.Join(dir, "pw")
	writeFile(t, pw, "pw-alice\n", 0o600)
	cfg = filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, strings.ReplaceAll(cliConfig, "PWFILE", pw), 0o644)
	return dir, cfg
}

func TestGetWithoutDaemon(t *testing.T) {
	dir, cfg := setupConfig(t)
	sock := filepath.Join(dir, "none.sock")
	tests := []struct {
		host, stdout, stderr string
		code                 int
	}{
		{"127.0.0.1:5000", `{"ServerURL":"127.0.0.1:5000","Username":"alice","Secret":"pw-alice"}` + "\n", "credentials worked out without the daemon", 0},
		{"public.ecr.aws", "credentials not found in native keychain\n", "registry pub is unprotected", 1},
		{"other.example", "credentials not found in native keychain\n", "no registry in " + cfg + " has the endpoint other.example", 1},
		{"gone.example", "registry gone: passwordFile: cannot read /nonexistent/pw: no such file or directory; check the path and that this user may read it\n", "", 1},
	}
	for _, tt := range tests {
		stdout, stderr, code := ocicred(t, "get", "--config", cfg, "--socket", sock, tt.host)
		if stdout != tt.stdout || code != tt.code || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("get %s: stdout %q stderr %q exit %d; want %q, %q, %d", tt.host, stdout, stderr, code, tt.stdout, tt.stderr, tt.code)
		}
	}
}

func TestGetStatusWithDaemon(t *testing.T) {
	dir, cfg := setupConfig(t)
	// The daemon needs every secret; drop the broken registry.
	body, _ := os.ReadFile(cfg)
	writeFile(t, cfg, strings.Split(string(body), "  - {name: gone")[0], 0o644)
	sock := filepath.Join(dir, "d.sock")
	runDaemon(t, cfg, sock)

	stdout, stderr, code := ocicred(t, "get", "--config", cfg, "--socket", sock, "127.0.0.1:5000")
	if code != 0 || !strings.Contains(stdout, `"Secret":"pw-alice"`) || !strings.Contains(stderr, "registry local: credentials from the daemon") {
		t.Errorf("get: %q %q %d", stdout, stderr, code)
	}
	stdout, _, code = ocicred(t, "status", "--json", "--config", cfg, "--socket", sock)
	var st localapi.Status
	if err := json.Unmarshal([]byte(stdout), &st); err != nil || code != 0 {
		t.Fatalf("status --json: %v, exit %d: %s", err, code, stdout)
	}
	if st.Config != cfg || len(st.Registries) != 2 || st.Registries[0].State != "static" || st.Registries[1].State != "anonymous" {
		t.Errorf("status = %+v", st)
	}
	for _, key := range []string{`"config"`, `"configError"`, `"registries"`, `"name"`, `"type"`, `"endpoint"`, `"state"`, `"expiresAt"`, `"refreshedAt"`, `"nextRefreshAt"`, `"lastError"`} {
		if !strings.Contains(stdout, key) {
			t.Errorf("status --json lacks %s", key)
		}
	}
	stdout, _, code = ocicred(t, "status", "--config", cfg, "--socket", sock)
	if code != 0 || !strings.Contains(stdout, "config error: none") || !strings.Contains(stdout, "local  basic") {
		t.Errorf("status:\n%s", stdout)
	}
	if strings.Contains(stdout, "pw-alice") {
		t.Error("status printed the password")
	}
}

func TestStatusWithoutDaemon(t *testing.T) {
	_, stderr, code := ocicred(t, "status", "--socket", filepath.Join(t.TempDir(), "none.sock"))
	if code != 1 || !strings.Contains(stderr, "daemon not reachable") || !strings.Contains(stderr, "is the daemon running?") {
		t.Errorf("status: %q, exit %d", stderr, code)
	}
}

func TestConfigValidate(t *testing.T) {
	dir, cfg := setupConfig(t)
	stdout, stderr, code := ocicred(t, "config", "validate", cfg)
	if code != 2 || !strings.Contains(stdout, cfg+":4:84: registries[2].passwordFile: cannot read /nonexistent/pw") ||
		!strings.Contains(stderr, "1 error(s)") {
		t.Errorf("validate broken: %q %q %d", stdout, stderr, code)
	}
	good := filepath.Join(dir, "good.yaml")
	writeFile(t, good, "registries:\n  - {name: a, type: basic, endpoint: a.example, username: u, password: p}\n", 0o600)
	if stdout, _, code := ocicred(t, "config", "validate", good); code != 0 || stdout != good+": valid, 1 registries\n" {
		t.Errorf("validate good: %q %d", stdout, code)
	}
	if err := os.Chmod(good, 0o644); err != nil {
		t.Fatal(err)
	}
	if stdout, _, code := ocicred(t, "config", "validate", good); code != 2 || !strings.Contains(stdout, "chmod o-r") {
		t.Errorf("validate world-readable inline secret: %q %d", stdout, code)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{{"get"}, {"nonsense"}, {"status", "--bogus"}, {"daemon", "--log-level", "loud"}} {
		if _, _, code := ocicred(t, args...); code != 2 {
			t.Errorf("ocicred %v: exit %d, want 2", args, code)
		}
	}
}

func TestDaemonBadConfigExit2(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	writeFile(t, cfg, "registries: [{name: a}]\n", 0o600)
	_, stderr, code := ocicred(t, "daemon", "--config", cfg, "--socket", filepath.Join(dir, "s"))
	if code != 2 || !strings.Contains(stderr, "registries[0].type: is required") {
		t.Errorf("daemon with a bad config: %q, exit %d", stderr, code)
	}
}

// Unknown commands and subcommands, and a group command without one, exit
// 2 with a message naming what to write (spec, "Operating it"); cobra
// alone prints the help and exits 0 for the subcommand cases.
func TestUnknownSubcommandsExit2(t *testing.T) {
	for _, args := range [][]string{{"bogus"}, {"setup", "nerdctl"}, {"config", "bogus"}, {"setup"}, {"config"}} {
		stdout, stderr, code := ocicred(t, args...)
		if code != 2 || stdout != "" || !strings.Contains(stderr, "ocicred") {
			t.Errorf("ocicred %s: exit %d, stdout %q, stderr %q; want exit 2 and a message", strings.Join(args, " "), code, stdout, stderr)
		}
	}
	if _, stderr, _ := ocicred(t, "setup", "nerdctl"); !strings.Contains(stderr, "docker, helm, kubelet, podman") {
		t.Errorf("setup nerdctl does not name the clients: %q", stderr)
	}
	if _, _, code := ocicred(t, "setup", "--help"); code != 0 {
		t.Errorf("setup --help: exit %d", code)
	}
}

// When the config names its own socket and the last edit was refused,
// `ocicred status` (no --socket) still finds the daemon through the
// config's socket: line and shows the config error, instead of saying the
// daemon is not reachable at the default socket.
func TestStatusFindsTheDaemonThroughARefusedConfig(t *testing.T) {
	t.Setenv("OCICRED_SOCKET", "")
	dir := t.TempDir()
	sock := filepath.Join(dir, "own.sock")
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, "socket: "+sock+"\nregistries: []\n", 0o600)
	d := runDaemon(t, cfg, sock)
	writeFile(t, cfg, "socket: "+sock+"\nregistries: []\nbogusField: 1\n", 0o600) // unknown field: refused
	d.Reload("test")
	stdout, stderr, code := ocicred(t, "status", "--config", cfg)
	if code != 0 || !strings.Contains(stdout, "config error: ") || strings.Contains(stdout, "config error: none") {
		t.Errorf("status with a refused config naming its socket: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
}

// runDaemon runs a daemon in this process on cfg and sock until the test
// ends, and returns once it said READY=1 (fails the test if it stopped
// first).
func runDaemon(t *testing.T, cfg, sock string) *daemon.Daemon {
	t.Helper()
	ready := make(chan struct{})
	var once sync.Once
	d := daemon.New(daemon.Options{ConfigPath: cfg, Socket: sock, Logger: slog.New(slog.DiscardHandler), Notify: func(s string) {
		if s == "READY=1" {
			once.Do(func() { close(ready) })
		}
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("the daemon stopped before it was ready: %v", err)
	}
	return d
}
