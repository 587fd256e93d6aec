package daemon

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/containerdhosts"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/localapi"
	"github.com/ocicred/ocicred/internal/secret"
	"github.com/ocicred/ocicred/internal/tokensource"
)

// parsedHosts is containerd's hosts.toml as containerd reads it.
type parsedHosts struct {
	Server string `toml:"server"`
	Host   map[string]struct {
		Capabilities []string       `toml:"capabilities"`
		CA           any            `toml:"ca"`
		SkipVerify   bool           `toml:"skip_verify"`
		Header       map[string]any `toml:"header"`
	} `toml:"host"`
}

// readHosts parses dir/host/hosts.toml and checks its mode and marker.
func readHosts(t *testing.T, dir, host string) (parsedHosts, error) {
	t.Helper()
	path := containerdhosts.Path(dir, host)
	data, err := os.ReadFile(path)
	if err != nil {
		return parsedHosts{}, err
	}
	var h parsedHosts
	if err := toml.Unmarshal(data, &h); err != nil {
		return h, fmt.Errorf("%s is not TOML: %w\n%s", path, err, data)
	}
	if !strings.HasPrefix(string(data), "# written by ocicred") {
		return h, fmt.Errorf("%s has no ocicred marker", path)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		return h, fmt.Errorf("%s: mode %v (%v), want 0600", path, fi.Mode().Perm(), err)
	}
	return h, nil
}

// wantHeader checks that h sends Basic user:pass to url and nothing else.
func wantHeader(h parsedHosts, url, user, pass string) error {
	entry, ok := h.Host[url]
	switch {
	case h.Server != url:
		return fmt.Errorf("server = %q, want %q", h.Server, url)
	case !ok || len(h.Host) != 1:
		return fmt.Errorf("host tables %v, want exactly [host.%q]", keys(h.Host), url)
	case strings.Join(entry.Capabilities, ",") != "pull,resolve":
		return fmt.Errorf("capabilities = %v, want pull, resolve", entry.Capabilities)
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	got, _ := entry.Header["Authorization"].([]any)
	if len(got) != 1 || got[0] != want {
		return fmt.Errorf("Authorization header is not Basic %s:<the password> (%d values)", user, len(got))
	}
	return nil
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// noTempFiles checks that no half-written file is left in dir/host.
func noTempFiles(t *testing.T, dir, host string) {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(dir, host))
	for _, e := range entries {
		if e.Name() != "hosts.toml" {
			t.Errorf("left in %s: %s", filepath.Join(dir, host), e.Name())
		}
	}
}

func containerdConfig(dir string, regs ...string) string {
	return "containerd:\n  hostsDir: " + dir + "\nregistries:\n" + strings.Join(regs, "")
}

// The daemon writes a hosts.toml for each registry with credentials,
// rewrites an ECR registry's on every token refresh, and removes them as
// registries leave the config.
func TestContainerdHostsFiles(t *testing.T) {
	clock := newFakeClock()
	aws := &fakeAWS{clock: clock, life: 12 * time.Hour, calls: map[string]int{}}
	hostsDir := filepath.Join(t.TempDir(), "certs.d") // created by the daemon
	const ecrHost = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
	local := basicConfig("local", "http://127.0.0.1:5000", "pw-local")
	ca := filepath.Join(t.TempDir(), "corp-ca.pem") // the daemon checks the CA file exists
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tlsReg := "  - {name: corp, type: basic, endpoint: corp.example:8443, username: robot, password: pw-corp, " +
		"tls: {ca: " + ca + ", insecureSkipVerify: true}}\n"
	prod := ecrRegistry("prod", "123456789012", "us-west-2", "AKIAAAAAAAAAAAAAAAAA")
	pub := "  - {name: pub, type: ecr, endpoint: public.ecr.aws, protected: false}\n"
	td := startDaemon(t, containerdConfig(hostsDir, local, tlsReg, prod, pub), func(o *Options) {
		o.Fetch, o.Clock = aws.fetch, clock
	})

	h, err := readHosts(t, hostsDir, "127.0.0.1:5000")
	if err != nil {
		t.Fatal(err)
	}
	if err := wantHeader(h, "http://127.0.0.1:5000", "user-local", "pw-local"); err != nil {
		t.Errorf("basic registry: %v", err)
	}
	if e := h.Host["http://127.0.0.1:5000"]; e.CA != nil || e.SkipVerify {
		t.Errorf("a registry without tls got ca %v, skip_verify %v", e.CA, e.SkipVerify)
	}
	h, err = readHosts(t, hostsDir, "corp.example:8443")
	if err != nil {
		t.Fatal(err)
	}
	if err := wantHeader(h, "https://corp.example:8443", "robot", "pw-corp"); err != nil {
		t.Errorf("registry with tls: %v", err)
	}
	if e := h.Host["https://corp.example:8443"]; e.CA != ca || !e.SkipVerify {
		t.Errorf("tls: ca %v, skip_verify %v; want the config's", e.CA, e.SkipVerify)
	}
	if _, err := os.Stat(filepath.Join(hostsDir, "public.ecr.aws")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an unprotected registry got a hosts folder: %v", err)
	}

	td.ev.await(t, refreshed("prod"), 1) // the first token, and its file
	if err := wantHosts(t, hostsDir, ecrHost, "token-1"); err != nil {
		t.Errorf("the ECR registry's file after the first token: %v", err)
	}

	// A refresh rewrites the file with the new token; nothing else moves.
	before, _ := os.ReadFile(containerdhosts.Path(hostsDir, "127.0.0.1:5000"))
	again := td.ev.next(refreshed("prod"))
	clock.Advance(clock.waitSleepers(t, 1)[0])
	again(t)
	if err := wantHosts(t, hostsDir, ecrHost, "token-2"); err != nil {
		t.Errorf("the ECR registry's file after a refresh: %v", err)
	}
	if after, _ := os.ReadFile(containerdhosts.Path(hostsDir, "127.0.0.1:5000")); string(after) != string(before) {
		t.Error("a token refresh changed a basic registry's file")
	}
	for _, host := range []string{"127.0.0.1:5000", "corp.example:8443", ecrHost} {
		noTempFiles(t, hostsDir, host)
	}
	st, err := td.client.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range st.Registries {
		if r.LastError != "" {
			t.Errorf("status of %s: lastError %q", r.Name, r.LastError)
		}
	}

	// A changed password is written; registries that leave go with their folders.
	td.d.Reload("test") // unchanged: nothing moves
	writeConfig(t, td.config, containerdConfig(hostsDir, basicConfig("local", "http://127.0.0.1:5000", "pw-new"), pub))
	td.d.Reload("test")
	h, err = readHosts(t, hostsDir, "127.0.0.1:5000")
	if err != nil {
		t.Fatal(err)
	}
	if err := wantHeader(h, "http://127.0.0.1:5000", "user-local", "pw-new"); err != nil {
		t.Errorf("after a password change: %v", err)
	}
	for _, host := range []string{"corp.example:8443", ecrHost} {
		if _, err := os.Stat(filepath.Join(hostsDir, host)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left the config but its folder is still there: %v", host, err)
		}
	}

	// containerd.hostsDir removed: the files in the old folder go too.
	writeConfig(t, td.config, "registries:\n"+basicConfig("local", "http://127.0.0.1:5000", "pw-new"))
	td.d.Reload("test")
	if _, err := os.Stat(filepath.Join(hostsDir, "127.0.0.1:5000")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("hostsDir left the config but its files are still there: %v", err)
	}

	logs := td.logs.String()
	for _, s := range []string{"pw-local", "pw-corp", "pw-new", "token-1", "token-2", "sk-AKIA",
		base64.StdEncoding.EncodeToString([]byte("user-local:pw-local")),
		base64.StdEncoding.EncodeToString([]byte("AWS:token-1")),
		base64.StdEncoding.EncodeToString([]byte("AWS:token-2"))} {
		if strings.Contains(logs, s) {
			t.Errorf("the log holds a secret (%d bytes)", len(s))
		}
	}
	if !strings.Contains(logs, "containerd hosts.toml written") || !strings.Contains(logs, "containerd hosts.toml removed") {
		t.Errorf("the log does not tell about written and removed files:\n%s", logs)
	}
}

// A hosts.toml the daemon did not write is never written over nor removed,
// and status says so.
func TestContainerdLeavesForeignFile(t *testing.T) {
	hostsDir := t.TempDir()
	foreign := "server = \"http://127.0.0.1:5000\"\n# the admin's own\n"
	path := containerdhosts.Path(hostsDir, "127.0.0.1:5000")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(foreign), 0o644); err != nil {
		t.Fatal(err)
	}
	td := startDaemon(t, containerdConfig(hostsDir, basicConfig("local", "http://127.0.0.1:5000", "pw-local"),
		basicConfig("other", "other.example", "pw-other")))
	st, err := td.client.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := "containerd: " + path + " was not written by ocicred; left alone"
	if r := st.Registries[0]; r.LastError != want || r.State != localapi.StateStatic {
		t.Errorf("status = %+v, want state static and lastError %q", r, want)
	}
	if r := st.Registries[1]; r.LastError != "" {
		t.Errorf("status of the other registry = %+v", r)
	}
	if got, err := td.client.Credentials(context.Background(), "127.0.0.1:5000"); err != nil || got.Secret != "pw-local" {
		t.Errorf("credentials: %+v, %v", got, err)
	}

	writeConfig(t, td.config, containerdConfig(hostsDir, basicConfig("other", "other.example", "pw-other")))
	td.d.Reload("test")
	data, err := os.ReadFile(path)
	if err != nil || string(data) != foreign {
		t.Errorf("the foreign file was touched: %q, %v", data, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("the foreign file's mode changed: %v", err)
	}
	if _, err := os.Stat(containerdhosts.Path(hostsDir, "other.example")); err != nil {
		t.Errorf("the other registry's file: %v", err)
	}
}

// blockWrites makes dir a place where no file can be written, and returns
// how to undo it. Root ignores modes, so for root the folder is replaced
// by a regular file.
func blockWrites(t *testing.T, dir string) (undo func()) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	probe := filepath.Join(dir, "probe")
	if err := os.WriteFile(probe, nil, 0o600); err != nil {
		t.Log("hosts folder read-only (mode 0555)")
		return func() { _ = os.Chmod(dir, 0o755) }
	}
	t.Log("running as a user that ignores file modes: the hosts folder is a regular file instead")
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("in the way\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return func() { _ = os.Remove(dir) }
}

// A folder the daemon cannot write to: the error is logged and shown in
// status, the daemon goes on serving, and the next reload writes the file
// once the folder is fixed.
func TestContainerdWriteFailure(t *testing.T) {
	clock := newFakeClock()
	aws := &fakeAWS{clock: clock, life: 12 * time.Hour, calls: map[string]int{}}
	hostsDir := filepath.Join(t.TempDir(), "certs.d")
	undo := blockWrites(t, hostsDir)
	defer undo()
	const ecrHost = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
	td := startDaemon(t, containerdConfig(hostsDir, basicConfig("local", "http://127.0.0.1:5000", "pw-local"),
		ecrRegistry("prod", "123456789012", "us-west-2", "AKIAAAAAAAAAAAAAAAAA")), func(o *Options) {
		o.Fetch, o.Clock = aws.fetch, clock
	})
	ctx := context.Background()
	td.ev.await(t, refreshed("prod"), 1) // the first token is in, and its write failed
	st, err := td.client.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range st.Registries {
		if !strings.HasPrefix(r.LastError, "containerd: cannot ") || !strings.Contains(r.LastError, hostsDir) {
			t.Errorf("write errors in status: status of %s: %+v", r.Name, r)
		}
	}
	if r := st.Registries[1]; r.State != localapi.StateReady {
		t.Errorf("the ECR registry is %s, want ready: the token is fine", r.State)
	}
	for _, server := range []string{"127.0.0.1:5000", ecrHost} {
		if _, err := td.client.Credentials(ctx, server); err != nil {
			t.Errorf("the daemon stopped serving %s: %v", server, err)
		}
	}
	if !strings.Contains(td.logs.String(), "containerd hosts.toml not written") {
		t.Error("the write failure was not logged")
	}

	undo()
	td.d.Reload("test") // the config did not change: still a retry
	for _, host := range []string{"127.0.0.1:5000", ecrHost} {
		if _, err := readHosts(t, hostsDir, host); err != nil {
			t.Errorf("after the folder was fixed: %v", err)
		}
		noTempFiles(t, hostsDir, host)
	}
	st, err = td.client.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range st.Registries {
		if r.LastError != "" {
			t.Errorf("status of %s after the fix: lastError %q", r.Name, r.LastError)
		}
	}
	if strings.Contains(td.logs.String(), "pw-local") || strings.Contains(td.logs.String(), "token-1") {
		t.Error("a secret reached the log")
	}
}

// fakeTokens is a tokenSource with answers a test sets.
type fakeTokens struct {
	mu   sync.Mutex
	toks map[tokensource.Key]creds.Token
}

func (f *fakeTokens) current(reg *config.Registry) (creds.Token, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tok, ok := f.toks[tokensource.KeyOf(reg)]
	return tok, ok
}

func (f *fakeTokens) set(key tokensource.Key, tok creds.Token) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.toks[key] = tok
}

// The sink keeps no tokens of its own: it writes what the store has when
// the config or an identity's token changes, nothing for an ECR registry
// before its first token, and a failed refresh leaves the file as it was.
func TestContainerdSinkFollowsTheStore(t *testing.T) {
	dir := t.TempDir()
	cfg := parse(t, containerdConfig(dir, ecrRegistry("prod", "123456789012", "us-west-2", "AKIAAAAAAAAAAAAAAAAA")))
	reg := cfg.Registries[0]
	key := tokensource.KeyOf(reg)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	store := &fakeTokens{toks: map[tokensource.Key]creds.Token{}}
	s := newContainerdSink(slog.New(slog.DiscardHandler), store)

	s.apply(cfg)
	if _, err := os.Stat(filepath.Join(dir, reg.Host)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a file before the first token: %v", err)
	}
	store.set(key, creds.Token{Password: secret.New("first"), ExpiresAt: t0.Add(12 * time.Hour)})
	s.refreshed(key, nil)
	h, err := readHosts(t, dir, reg.Host)
	if err != nil {
		t.Fatal(err)
	}
	if err := wantHeader(h, "https://"+reg.Host, "AWS", "first"); err != nil {
		t.Errorf("after the first refresh: %v", err)
	}
	store.set(key, creds.Token{Password: secret.New("second"), ExpiresAt: t0.Add(18 * time.Hour)})
	s.refreshed(key, errors.New("AWS is down")) // a failed refresh changes nothing
	h, _ = readHosts(t, dir, reg.Host)
	if err := wantHeader(h, "https://"+reg.Host, "AWS", "first"); err != nil {
		t.Errorf("after a failed refresh: %v", err)
	}
	s.refreshed("another-identity", nil) // another identity's refresh does not touch this file
	h, _ = readHosts(t, dir, reg.Host)
	if err := wantHeader(h, "https://"+reg.Host, "AWS", "first"); err != nil {
		t.Errorf("after another identity's refresh: %v", err)
	}
	s.apply(cfg) // a reload writes what the store has now
	h, _ = readHosts(t, dir, reg.Host)
	if err := wantHeader(h, "https://"+reg.Host, "AWS", "second"); err != nil {
		t.Errorf("after a reload: %v", err)
	}
}

// wantHosts checks that host's hosts.toml carries the ECR token tok.
func wantHosts(t *testing.T, hostsDir, host, tok string) error {
	t.Helper()
	h, err := readHosts(t, hostsDir, host)
	if err != nil {
		return err
	}
	return wantHeader(h, "https://"+host, "AWS", tok)
}
