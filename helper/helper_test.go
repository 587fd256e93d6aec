package helper

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/daemon"
)

const testConfig = `registries:
  - {name: local, type: basic, endpoint: "http://127.0.0.1:5000", username: alice, password: pw-alice}
  - {name: pub, type: ecr, endpoint: public.ecr.aws, protected: false}
`

// setup writes the config and, when withDaemon, runs a real daemon on it.
func setup(t *testing.T, withDaemon bool) (cfg, sock string) {
	t.Helper()
	dir := t.TempDir()
	cfg, sock = filepath.Join(dir, "config.yaml"), filepath.Join(dir, "ocicred.sock")
	if err := os.WriteFile(cfg, []byte(testConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	if !withDaemon {
		return cfg, sock
	}
	ready := make(chan struct{})
	d := daemon.New(daemon.Options{ConfigPath: cfg, Socket: sock, Logger: slog.New(slog.DiscardHandler),
		Notify: func(s string) {
			if s == "READY=1" {
				close(ready)
			}
		}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("daemon: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("daemon not ready")
	}
	return cfg, sock
}

// run runs one helper action the way docker does, returning stdout.
func run(h *Helper, action, stdin string) (string, error) {
	var out bytes.Buffer
	err := credentials.HandleCommand(h, action, strings.NewReader(stdin), &out)
	return out.String(), err
}

func TestHelperWithDaemon(t *testing.T) {
	cfg, sock := setup(t, true)
	fellBack := false
	h := New(Options{ConfigPath: cfg, Socket: sock, Fallback: func(context.Context, string, bool) (string, string, error) {
		fellBack = true
		return "", "", errors.New("fallback")
	}})
	out, err := run(h, "get", "127.0.0.1:5000")
	if err != nil || out != `{"ServerURL":"127.0.0.1:5000","Username":"alice","Secret":"pw-alice"}`+"\n" {
		t.Errorf("get = %q, %v", out, err)
	}
	for _, addr := range []string{"public.ecr.aws", "other.example"} {
		if _, err := run(h, "get", addr); err == nil || err.Error() != "credentials not found in native keychain" {
			t.Errorf("get %s: %v, want the exact not-found text", addr, err)
		}
	}
	if out, err := run(h, "list", "unused"); err != nil || out != `{"127.0.0.1:5000":"alice"}`+"\n" {
		t.Errorf("list = %q, %v", out, err)
	}
	if fellBack {
		t.Error("the fallback ran although the daemon was up")
	}
}

func TestHelperWithoutDaemon(t *testing.T) {
	cfg, sock := setup(t, false)
	var asked string
	h := New(Options{ConfigPath: cfg, Socket: sock, Fallback: func(_ context.Context, s string, _ bool) (string, string, error) {
		asked = s
		return "alice", "from-fallback", nil
	}, FallbackList: func(context.Context, bool) (map[string]string, error) {
		return map[string]string{"127.0.0.1:5000": "alice"}, nil
	}})
	out, err := run(h, "get", "127.0.0.1:5000")
	if err != nil || asked != "127.0.0.1:5000" || !strings.Contains(out, `"Secret":"from-fallback"`) {
		t.Errorf("get = %q, %v (fallback asked %q)", out, err, asked)
	}
	if out, err := run(h, "list", "unused"); err != nil || out != `{"127.0.0.1:5000":"alice"}`+"\n" {
		t.Errorf("list from the fallback = %q, %v", out, err)
	}
}

func TestHelperStoreEraseAndGarbage(t *testing.T) {
	cfg, sock := setup(t, false)
	h := New(Options{ConfigPath: cfg, Socket: sock})
	_, err := run(h, "store", `{"ServerURL":"127.0.0.1:5000","Username":"x","Secret":"y"}`)
	if err == nil || !strings.Contains(err.Error(), cfg+" is the source of truth") || !strings.Contains(err.Error(), "127.0.0.1:5000") ||
		strings.Contains(err.Error(), "y\"") {
		t.Errorf("store for a managed registry = %v", err)
	}
	if _, err := run(h, "erase", "127.0.0.1:5000"); err != nil {
		t.Errorf("erase = %v", err)
	}
	for _, in := range []string{"", "   ", "not a host", "\x00\x01\xff", strings.Repeat("a", 300) + " b"} {
		_, err := run(h, "get", in)
		if err == nil || err.Error() == "credentials not found in native keychain" {
			t.Errorf("get %q = %v, want a clear error", in, err)
		}
	}
}

func TestParseGetOutput(t *testing.T) {
	exitErr := exec.Command("false").Run()
	tests := []struct {
		out      string
		runErr   error
		user     string
		wantErr  string
		notFound bool
	}{
		{`{"ServerURL":"h","Username":"AWS","Secret":"tok"}`, nil, "AWS", "", false},
		{"credentials not found in native keychain\n", exitErr, "", "", true},
		{"registry prod: AccessDenied: not authorized\n", exitErr, "", "registry prod: AccessDenied: not authorized", false},
		{"", exitErr, "", "said nothing", false},
		{"garbage", nil, "", "not credentials", false},
	}
	for _, tt := range tests {
		user, _, err := parseGetOutput([]byte(tt.out), tt.runErr)
		switch {
		case tt.notFound:
			if !credentials.IsErrCredentialsNotFound(err) {
				t.Errorf("%q: err = %v, want not found", tt.out, err)
			}
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: err = %v, want %q", tt.out, err, tt.wantErr)
			}
		case err != nil || user != tt.user:
			t.Errorf("%q: %q, %v", tt.out, user, err)
		}
	}
}

func TestDefaultConfigPathMatchesConfig(t *testing.T) {
	if DefaultConfigPath != config.DefaultPath {
		t.Errorf("helper.DefaultConfigPath %q != config.DefaultPath %q", DefaultConfigPath, config.DefaultPath)
	}
}
