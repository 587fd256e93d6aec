package helper

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeOcicred puts an `ocicred` on PATH that records its arguments, one a
// line, says stderr on stderr, prints stdout and exits with code. It
// returns the file the arguments go to.
func fakeOcicred(t *testing.T, stdout, stderr string, code int) (argsFile string) {
	t.Helper()
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > '" + argsFile + "'\n" +
		"printf '%s' '" + stderr + "' >&2\nprintf '%s' '" + stdout + "'\nexit " + string(rune('0'+code)) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "ocicred"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return argsFile
}

func readArgs(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// The fallback's note that tokens cannot be cached reaches the helper's
// stderr even when not debugging, and only that: where the answer came
// from stays hidden (--quiet) unless OCICRED_DEBUG is set.
func TestFallbackPassesOnWhatNeedsFixing(t *testing.T) {
	cfg, sock := setup(t, false)
	const note = "ocicred: tokens are not cached, so every pull asks AWS: token cache: /c is open to other users (mode 0755); chmod 700 it\n"
	args := fakeOcicred(t, `{"ServerURL":"r.example","Username":"AWS","Secret":"tok"}`, note, 0)

	var warn bytes.Buffer
	h := New(Options{ConfigPath: cfg, Socket: sock, Warn: &warn})
	if out, err := run(h, "get", "r.example"); err != nil || !strings.Contains(out, `"Secret":"tok"`) {
		t.Fatalf("get = %q, %v", out, err)
	}
	if warn.String() != note {
		t.Errorf("stderr = %q, want the note", warn.String())
	}
	if got := readArgs(t, args); !contains(got, "--quiet") {
		t.Errorf("ocicred ran with %q; want --quiet when not debugging", got)
	}

	var debug bytes.Buffer
	warn.Reset()
	h = New(Options{ConfigPath: cfg, Socket: sock, Warn: &warn, Debug: &debug})
	if _, err := run(h, "get", "r.example"); err != nil {
		t.Fatal(err)
	}
	if got := readArgs(t, args); contains(got, "--quiet") || !strings.Contains(debug.String(), note) {
		t.Errorf("debugging: ocicred ran with %q, debug output %q", got, debug.String())
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// A daemon that accepts but never answers costs the helper DaemonTimeout,
// not a failed pull: the answer is then worked out without it.
func TestHelperAnswersWithoutASilentDaemon(t *testing.T) {
	cfg, _ := setup(t, false)
	sock := filepath.Join(t.TempDir(), "silent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(held)
				return
			}
			held <- c // accepted, never answered
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for c := range held {
			c.Close()
		}
	})
	var getSilent, listSilent bool
	h := New(Options{ConfigPath: cfg, Socket: sock, DaemonTimeout: 50 * time.Millisecond,
		Fallback: func(_ context.Context, _ string, silent bool) (string, string, error) {
			getSilent = silent
			return "alice", "from-fallback", nil
		},
		FallbackList: func(_ context.Context, silent bool) (map[string]string, error) {
			listSilent = silent
			return map[string]string{"127.0.0.1:5000": "alice"}, nil
		}})
	if out, err := run(h, "get", "127.0.0.1:5000"); err != nil || !strings.Contains(out, `"Secret":"from-fallback"`) || !getSilent {
		t.Errorf("get = %q, %v (told the daemon was silent: %v); want the fallback's answer", out, err, getSilent)
	}
	if out, err := run(h, "list", ""); err != nil || !strings.Contains(out, `"127.0.0.1:5000":"alice"`) || !listSilent {
		t.Errorf("list = %q, %v (told the daemon was silent: %v); want the fallback's answer", out, err, listSilent)
	}
}

// The default fallback tells `ocicred get` and `ocicred list` which socket
// gave no answer, so that they do not wait for it a second time.
func TestFallbackSkipsTheSilentSocket(t *testing.T) {
	cfg, sock := setup(t, false)
	args := fakeOcicred(t, `{"ServerURL":"x","Username":"u","Secret":"s"}`, "", 0)
	fb := &execFallback{configPath: cfg, socket: sock, stderr: io.Discard}
	for _, silent := range []bool{false, true} {
		if _, _, err := fb.get(context.Background(), "r.example", silent); err != nil {
			t.Fatal(err)
		}
		got := strings.Join(readArgs(t, args), " ")
		if want := "--skip-socket " + sock + " "; strings.Contains(got, want) != silent {
			t.Errorf("silent=%v: ocicred ran with %q", silent, got)
		}
	}
}

// A server address that starts with "-" reaches `ocicred get` as an
// address, after "--", never as a flag.
func TestFallbackPassesTheAddressAfterDashDash(t *testing.T) {
	cfg, sock := setup(t, false)
	args := fakeOcicred(t, `{"ServerURL":"x","Username":"u","Secret":"s"}`, "", 0)
	h := New(Options{ConfigPath: cfg, Socket: sock})
	for _, server := range []string{"-h", "--config", "--no-daemon"} {
		if _, err := run(h, "get", server); err != nil {
			t.Fatalf("get %q: %v", server, err)
		}
		got := readArgs(t, args)
		if len(got) < 2 || got[len(got)-2] != "--" || got[len(got)-1] != server {
			t.Errorf("get %q ran ocicred %q; want the address last, after --", server, got)
		}
	}
}

// `ocicred list` that fails gives its reason, and the helper passes it on
// (it used to print "ocicred list: " and nothing else).
func TestParseListOutput(t *testing.T) {
	exit1 := exec.Command("sh", "-c", "exit 1").Run()
	tests := []struct {
		out  string
		err  error
		want string // error text, or "" for success
	}{
		{`{"a.example":"u"}` + "\n", nil, ""},
		{"/etc/ocicred/config.yaml: cannot open: permission denied\n", exit1, "ocicred list: /etc/ocicred/config.yaml: cannot open: permission denied"},
		{"first\nsecond\n", exit1, "ocicred list: first"},
		{"", exit1, "ocicred list failed (exit status 1) and said nothing; run it by hand to see why"},
		{"not json", nil, "ocicred list printed something that is not a JSON object"},
	}
	for _, tt := range tests {
		m, err := parseListOutput([]byte(tt.out), tt.err)
		switch {
		case tt.want == "" && (err != nil || m["a.example"] != "u"):
			t.Errorf("parseListOutput(%q) = %v, %v", tt.out, m, err)
		case tt.want != "" && (err == nil || err.Error() != tt.want):
			t.Errorf("parseListOutput(%q) = %v; want %q", tt.out, err, tt.want)
		}
	}
}
