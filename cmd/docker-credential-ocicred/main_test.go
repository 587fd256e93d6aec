package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocicred/ocicred/test/testenv"
)

// The helper is on the hot path of every pull: it must link neither the
// AWS SDK, the daemon, nor client-go.
func TestHelperDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps printed too little: %q", out)
	}
	for _, dep := range deps {
		switch {
		case strings.HasPrefix(dep, "github.com/aws/"), strings.HasPrefix(dep, "github.com/spf13/cobra"),
			strings.HasPrefix(dep, "k8s.io/"), // client-go is the controller's, in ocicred only
			dep == "github.com/ocicred/ocicred/daemon", dep == "github.com/ocicred/ocicred/config",
			dep == "go.yaml.in/yaml/v3", dep == "net/http", dep == "crypto/tls":
			t.Errorf("the helper links %s: it starts on every pull and must stay small", dep)
		}
	}
}

// buildHelper builds this program into a temp dir.
func buildHelper(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "docker-credential-ocicred")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func TestHelperInput(t *testing.T) {
	testenv.SkipShort(t, "builds the helper")
	bin := buildHelper(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("registries: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args  []string
		stdin string
		out   string
		code  int
	}{
		{[]string{"get"}, strings.Repeat("a", 70<<10), "input is larger than 64 KiB; send one server address\n", 1},
		{[]string{"get"}, "", "no credentials server URL\n", 1},
		{[]string{"get"}, "\x00\xfe garbage", `invalid server address "?? garbage": not a host name: it may hold only letters, digits, '.', '-' and '_'` + "\n", 1},
		// No daemon, and no ocicred next to the helper or on PATH.
		{[]string{"get"}, "unmanaged.example:5000", "the ocicred daemon is not reachable and no ocicred program was found to answer without it; start the daemon (ocicred service start) or put ocicred on PATH\n", 1},
		{[]string{"list"}, "", "the ocicred daemon is not reachable and no ocicred program was found to answer without it; start the daemon (ocicred service start) or put ocicred on PATH\n", 1},
		{[]string{"erase"}, "unmanaged.example", "", 0},
		{[]string{"bogus"}, "", "docker-credential-ocicred: unknown action: bogus\n", 1},
		{nil, "", "Usage: docker-credential-ocicred <store|get|erase|list|version>\n", 1},
	}
	for _, tt := range tests {
		cmd := exec.Command(bin, tt.args...)
		cmd.Env = []string{"OCICRED_CONFIG=" + cfg, "OCICRED_SOCKET=" + filepath.Join(dir, "none.sock"), "PATH=" + dir}
		cmd.Stdin = strings.NewReader(tt.stdin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if stdout.String() != tt.out || code != tt.code {
			t.Errorf("%v <<%.20q: stdout %q exit %d; want %q exit %d (stderr %q)", tt.args, tt.stdin, stdout.String(), code, tt.out, tt.code, stderr.String())
		}
	}
}
