package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/localapi"
)

// TestMain runs this test binary as one of the child processes some tests
// start (chosen by an environment variable), or else runs the tests.
func TestMain(m *testing.M) {
	switch {
	case os.Getenv(clientEnv) != "":
		os.Exit(runAsClient())
	case os.Getenv(atomicChildEnv) != "":
		os.Exit(runAtomicWriter())
	}
	goleak.VerifyTestMain(m)
}

// testDaemon is a daemon running in this process on a socket in a temp dir.
type testDaemon struct {
	d       *Daemon
	dir     string
	config  string
	socket  string
	client  *localapi.Client
	notes   chan string
	logs    *syncBuffer
	ev      *events // log messages and token refreshes, to wait for
	stop    context.CancelFunc
	stopped chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func basicConfig(name, endpoint, password string) string {
	return fmt.Sprintf("  - {name: %s, type: basic, endpoint: %q, username: user-%s, password: %s}\n", name, endpoint, name, password)
}

func writeConfig(t *testing.T, path, body string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// startDaemon runs a daemon on cfg and waits until it is ready.
func startDaemon(t *testing.T, cfg string, tweak ...func(*Options)) *testDaemon {
	t.Helper()
	dir := t.TempDir()
	td := &testDaemon{dir: dir, config: filepath.Join(dir, "config.yaml"), socket: filepath.Join(dir, "ocicred.sock"),
		notes: make(chan string, 100), logs: &syncBuffer{}, ev: newEvents(), stopped: make(chan error, 1)}
	writeConfig(t, td.config, cfg)
	text := slog.NewTextHandler(td.logs, &slog.HandlerOptions{Level: slog.LevelDebug})
	opts := Options{ConfigPath: td.config, Socket: td.socket, Debounce: 20 * time.Millisecond,
		Logger: slog.New(logEvents{text, td.ev}),
		Notify: func(s string) {
			select { // only the first READY=1 is waited for: never block a reload
			case td.notes <- s:
			default:
			}
		}}
	for _, f := range tweak {
		f(&opts)
	}
	td.d = New(opts)
	hookRefreshes(td.d.tokens, td.ev)
	ctx, cancel := context.WithCancel(context.Background())
	td.stop = cancel
	go func() { td.stopped <- td.d.Run(ctx) }()
	t.Cleanup(func() {
		td.shutdown(t)
		if t.Failed() {
			t.Logf("daemon log:\n%s", td.logs.String())
		}
	})
	td.client = localapi.NewClient(td.socket)
	select {
	case n := <-td.notes:
		if n != "READY=1" {
			t.Fatalf("first notification %q, want READY=1", n)
		}
	case err := <-td.stopped:
		t.Fatalf("daemon stopped at start: %v", err)
	case <-time.After(eventGuard):
		t.Fatalf("daemon not ready after %s", eventGuard)
	}
	return td
}

func (td *testDaemon) shutdown(t *testing.T) {
	td.stop()
	select {
	case err, ok := <-td.stopped:
		if ok && err != nil {
			t.Errorf("Run returned %v", err)
		}
		close(td.stopped)
	case <-time.After(eventGuard):
		t.Errorf("daemon did not stop within %s", eventGuard)
	}
}

func TestServesBasicCredentials(t *testing.T) {
	td := startDaemon(t, "registries:\n"+basicConfig("local", "http://127.0.0.1:5000", "pw-local")+
		"  - {name: pub, type: ecr, endpoint: public.ecr.aws, protected: false}\n")
	ctx := context.Background()
	for _, addr := range []string{"127.0.0.1:5000", "http://127.0.0.1:5000/", "127.0.0.1:5000/demo/hello"} {
		got, err := td.client.Credentials(ctx, addr)
		if err != nil || got.Username != "user-local" || got.Secret != "pw-local" || got.Registry != "local" {
			t.Errorf("Credentials(%q) = %+v, %v", addr, got, err)
		}
	}
	for _, addr := range []string{"localhost:5000", "public.ecr.aws", "docker.io"} {
		if _, err := td.client.Credentials(ctx, addr); !errors.Is(err, localapi.ErrNotFound) {
			t.Errorf("Credentials(%q) error = %v, want not found", addr, err)
		}
	}
	if _, err := td.client.Credentials(ctx, "bad host name"); err == nil || !strings.Contains(err.Error(), "invalid server address") {
		t.Errorf("Credentials(garbage) error = %v", err)
	}
	list, err := td.client.List(ctx)
	if err != nil || len(list) != 1 || list["127.0.0.1:5000"] != "user-local" {
		t.Errorf("List = %v, %v", list, err)
	}
	st, err := td.client.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Config != td.config || st.ConfigError != "" || len(st.Registries) != 2 ||
		st.Registries[0].State != localapi.StateStatic || st.Registries[1].State != localapi.StateAnonymous {
		t.Errorf("Status = %+v", st)
	}
	if strings.Contains(td.logs.String(), "pw-local") {
		t.Error("the password reached the log")
	}
}

func TestSocketModeAndStaleSocket(t *testing.T) {
	td := startDaemon(t, "registries: []\n")
	fi, err := os.Stat(td.socket)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != SocketMode || fi.Mode().Type() != os.ModeSocket {
		t.Errorf("socket mode = %v, want socket 0660", fi.Mode())
	}

	// A second daemon must not take over a socket that answers.
	second := New(Options{ConfigPath: td.config, Socket: td.socket, Notify: func(string) {}})
	err = second.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "another ocicred daemon answers on") {
		t.Errorf("second daemon: %v", err)
	}

	// A stale socket (nobody listening) is removed and taken.
	stale := filepath.Join(t.TempDir(), "stale.sock")
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(stale); err != nil {
		t.Fatalf("stale socket not left behind: %v", err)
	}
	if _, err := listen(stale, -1); err != nil {
		t.Errorf("listen on a stale socket: %v", err)
	}

	// A file that is not a socket is never removed.
	notSock := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notSock, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := listen(notSock, -1); err == nil || !strings.Contains(err.Error(), "is not a socket") {
		t.Errorf("listen on a regular file: %v", err)
	}
	if b, _ := os.ReadFile(notSock); string(b) != "keep" {
		t.Error("the regular file was touched")
	}
}

func TestReloadKeepsOldConfigOnError(t *testing.T) {
	td := startDaemon(t, "registries:\n"+basicConfig("a", "a.example", "pw-a"))
	ctx := context.Background()

	reloaded := td.ev.next(msgReloaded)
	writeConfig(t, td.config, "registries:\n"+basicConfig("a", "a.example", "pw-a2")+basicConfig("b", "b.example", "pw-b"))
	reloaded(t)
	if got, err := td.client.Credentials(ctx, "b.example"); err != nil || got.Secret != "pw-b" {
		t.Fatalf("new config applied, but b.example = %+v, %v", got, err)
	}

	refused := td.ev.next(msgRefused)
	writeConfig(t, td.config, "registries:\n  - name: a\n    typo: basic\n")
	refused(t)
	if st, err := td.client.Status(ctx); err != nil || !strings.Contains(st.ConfigError, "registries[0].typo: unknown field") {
		t.Errorf("bad config refused, but status = %+v, %v", st, err)
	}
	if got, err := td.client.Credentials(ctx, "a.example"); err != nil || got.Secret != "pw-a2" {
		t.Errorf("old config not kept: %+v, %v", got, err)
	}

	reloaded = td.ev.next(msgReloaded)
	writeConfig(t, td.config, "registries:\n"+basicConfig("a", "a.example", "pw-a3"))
	reloaded(t)
	if st, err := td.client.Status(ctx); err != nil || st.ConfigError != "" || len(st.Registries) != 1 {
		t.Errorf("fixed config applied, but status = %+v, %v", st, err)
	}
	if _, err := td.client.Credentials(ctx, "b.example"); !errors.Is(err, localapi.ErrNotFound) {
		t.Errorf("removed registry still answers: %v", err)
	}
}

func TestReloadPicksUpRotatedPasswordFile(t *testing.T) {
	secrets := t.TempDir()
	pwFile := filepath.Join(secrets, "pw")
	if err := os.WriteFile(pwFile, []byte("first\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	td := startDaemon(t, "registries:\n  - {name: a, type: basic, endpoint: a.example, username: u, passwordFile: "+pwFile+"}\n")
	if err := os.WriteFile(pwFile, []byte("second\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	td.d.Reload("test")
	if got, err := td.client.Credentials(context.Background(), "a.example"); err != nil || got.Secret != "second" {
		t.Errorf("after reload: %+v, %v", got, err)
	}
	// A secret file that disappears is a refused reload, not an outage.
	if err := os.Remove(pwFile); err != nil {
		t.Fatal(err)
	}
	td.d.Reload("test")
	if got, err := td.client.Credentials(context.Background(), "a.example"); err != nil || got.Secret != "second" {
		t.Errorf("after a refused reload: %+v, %v", got, err)
	}
	if e := td.d.ConfigError(); !strings.Contains(e, "registries[0].passwordFile: cannot read") {
		t.Errorf("ConfigError = %q", e)
	}
}

func TestWorldReadableInlineSecretRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte("registries:\n"+basicConfig("a", "a.example", "pw")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	err := New(Options{ConfigPath: path, Socket: filepath.Join(dir, "s"), Notify: func(string) {}}).Run(context.Background())
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "chmod o-r") {
		t.Fatalf("Run = %v, want a config error telling to chmod", err)
	}

	td := startDaemon(t, "registries:\n"+basicConfig("a", "a.example", "pw"))
	if err := os.Chmod(td.config, 0o644); err != nil {
		t.Fatal(err)
	}
	td.d.Reload("test")
	if !strings.Contains(td.d.ConfigError(), "readable by other users") {
		t.Errorf("reload of a world-readable file: ConfigError = %q", td.d.ConfigError())
	}
}

func TestSIGHUPReloads(t *testing.T) {
	td := startDaemon(t, "registries:\n"+basicConfig("a", "a.example", "pw1"), func(o *Options) {
		o.Debounce = time.Hour // only SIGHUP can reload
	})
	// Write without an event the watcher would act on in time.
	writeConfig(t, td.config, "registries:\n"+basicConfig("a", "a.example", "pw2"))
	reloaded := td.ev.next(msgReloaded)
	if err := syscallKill(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	reloaded(t)
	if got, err := td.client.Credentials(context.Background(), "a.example"); err != nil || got.Secret != "pw2" {
		t.Errorf("after the SIGHUP reload: %+v, %v", got, err)
	}
}

// No request fails while the config is rewritten over and over: between
// two reloads every worker has had an answer.
func TestNoRequestFailsDuringReloads(t *testing.T) {
	td := startDaemon(t, "registries:\n"+basicConfig("a", "a.example", "pw"))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []error
	requests := 0
	const workers = 8
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				got, err := td.client.Credentials(context.Background(), "a.example")
				mu.Lock()
				requests++
				if err == nil && got.Secret != "pw" {
					err = fmt.Errorf("wrong secret %q", got.Secret)
				}
				if err != nil {
					failures = append(failures, err)
				}
				mu.Unlock()
				td.ev.add(fmt.Sprintf("answered %d", w))
			}
		}()
	}
	for i := range 30 {
		// Alternate between two valid configs that both keep registry a.
		extra := ""
		if i%2 == 0 {
			extra = basicConfig(fmt.Sprintf("b%d", i), fmt.Sprintf("b%d.example", i), "pwb")
		}
		var answered []func(*testing.T)
		for w := range workers {
			answered = append(answered, td.ev.next(fmt.Sprintf("answered %d", w)))
		}
		writeConfig(t, td.config, "registries:\n"+basicConfig("a", "a.example", "pw")+extra)
		td.d.Reload("test")
		for _, wait := range answered {
			wait(t)
		}
	}
	cancel()
	wg.Wait()
	if len(failures) > 0 || requests == 0 {
		t.Errorf("%d of %d requests failed; first: %v", len(failures), requests, failures)
	}
}

func TestSocketDeletedUnderRunningDaemon(t *testing.T) {
	td := startDaemon(t, "registries:\n"+basicConfig("a", "a.example", "pw"), func(o *Options) {
		o.SocketCheck = 20 * time.Millisecond
	})
	relistens := td.ev.next(msgRelistens)
	if err := os.Remove(td.socket); err != nil {
		t.Fatal(err)
	}
	relistens(t)
	if got, err := td.client.Credentials(context.Background(), "a.example"); err != nil || got.Secret != "pw" {
		t.Errorf("on the socket made again: %+v, %v", got, err)
	}
	if fi, err := os.Stat(td.socket); err != nil || fi.Mode().Perm() != SocketMode {
		t.Errorf("recreated socket: %v, %v", fi, err)
	}
}

// The daemon's not-found answer says which case it is, as the daemon-less
// path does, so `ocicred get` says as much with the daemon as without it.
func TestNotFoundSaysWhy(t *testing.T) {
	td := startDaemon(t, "registries:\n"+basicConfig("local", "http://127.0.0.1:5000", "pw-local")+
		"  - {name: pub, type: ecr, endpoint: public.ecr.aws, protected: false}\n"+
		"  - {name: rootonly, type: basic, endpoint: r.example, username: u, password: pw-r, allow: [\"4242\"]}\n")
	ctx := context.Background()
	for addr, want := range map[string]string{
		"docker.io":      "no registry in " + td.config + " has the endpoint docker.io",
		"public.ecr.aws": "registry pub is unprotected",
		"r.example":      "registry rootonly does not allow this user",
	} {
		_, err := td.client.Credentials(ctx, addr)
		var nf *localapi.NotFoundError
		if !errors.As(err, &nf) || !errors.Is(err, localapi.ErrNotFound) || !strings.Contains(nf.Reason, want) {
			t.Errorf("Credentials(%q) = %v, want not found saying %q", addr, err, want)
		}
	}
}

// A refresh that fails before any token was had does not claim to serve
// "the last good token": there is none.
func TestFailedFirstRefreshSaysNoToken(t *testing.T) {
	denied := errors.New("access denied: give the identity the policy")
	td := startDaemon(t, "registries:\n  - {name: prod, type: ecr, endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com}\n",
		func(o *Options) {
			o.Fetch = func(context.Context, *config.Registry) (creds.Token, error) { return creds.Token{}, denied }
		})
	td.ev.await(t, refreshFailed("prod"), 1) // logged before the hook hears of it
	logs := td.logs.String()
	if strings.Contains(logs, "serving the last good token") || !strings.Contains(logs, "no token to serve until one succeeds") {
		t.Errorf("the first failed refresh is logged as:\n%s", logs)
	}
}

// A config file truncated to 0 bytes (or left with only comments) is
// refused like an invalid one: the old config keeps serving, and its
// containerd hosts.toml files stay.
func TestEmptyConfigRefused(t *testing.T) {
	hostsDir := filepath.Join(t.TempDir(), "certs.d")
	td := startDaemon(t, "containerd: {hostsDir: "+hostsDir+"}\nregistries:\n"+basicConfig("a", "a.example", "pw-a"))
	ctx := context.Background()
	hosts := filepath.Join(hostsDir, "a.example", "hosts.toml")
	if _, err := os.Stat(hosts); err != nil {
		t.Fatalf("hosts.toml before: %v", err)
	}
	for _, body := range []string{"", "# all commented out\n"} {
		writeConfig(t, td.config, body)
		td.d.Reload("test")
		st, err := td.client.Status(ctx)
		if err != nil || !strings.Contains(st.ConfigError, "the file is empty") || len(st.Registries) != 1 {
			t.Errorf("after writing %q: status %+v, %v; want the empty file refused", body, st, err)
		}
		if got, err := td.client.Credentials(ctx, "a.example"); err != nil || got.Secret != "pw-a" {
			t.Errorf("after writing %q the old config no longer serves: %+v, %v", body, got, err)
		}
		if _, err := os.Stat(hosts); err != nil {
			t.Errorf("after writing %q the hosts.toml went: %v", body, err)
		}
	}
}

// A second daemon on the same socket and config (metrics port included)
// is told that another daemon answers on the socket, not to change
// metrics: (the first daemon holds both).
func TestSecondDaemonIsToldOfTheSocket(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	td := startDaemon(t, "metrics: "+addr+"\nregistries: []\n")
	second := New(Options{ConfigPath: td.config, Socket: td.socket, Notify: func(string) {}})
	err = second.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "another ocicred daemon answers on") || strings.Contains(err.Error(), "change metrics") {
		t.Errorf("second daemon: %v", err)
	}
	if _, err := td.client.Status(context.Background()); err != nil {
		t.Errorf("the first daemon no longer answers: %v", err)
	}
}
