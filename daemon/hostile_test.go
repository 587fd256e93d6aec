package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ocicred/ocicred/internal/containerdhosts"
	"github.com/ocicred/ocicred/internal/ecrtoken"
	"github.com/ocicred/ocicred/internal/localapi"
	"github.com/ocicred/ocicred/internal/tokencache"
)

// reloadWithin reloads td and fails the test when the reload has not
// returned after 10 s.
func reloadWithin(t *testing.T, td *testDaemon) {
	t.Helper()
	done := make(chan struct{})
	go func() { td.d.Reload("test"); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("reload still blocked after 10s")
	}
}

// A passwordFile replaced by a FIFO (an open that never returns) or by a
// file of many lines (/etc/shadow by mistake) is a refused reload: the
// daemon keeps serving the old password, says why in status, and a fixed
// file is picked up by the next reload.
func TestReloadRefusesSecretFilesThatAreNotOneLineFiles(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("first\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	td := startDaemon(t, "registries:\n  - {name: a, type: basic, endpoint: a.example, username: u, passwordFile: "+pwFile+"}\n")
	ctx := context.Background()

	const shadowLine = "daemon:*:19000:0:99999:7:::"
	for _, tt := range []struct {
		name, want string
		make       func() error
	}{
		{"fifo", "is not a regular file: a FIFO", func() error { return unix.Mkfifo(pwFile, 0o600) }},
		{"many lines", "holds more than one line", func() error {
			return os.WriteFile(pwFile, []byte("root:$6$x$y:19000::::::\n"+shadowLine+"\n"), 0o600)
		}},
	} {
		if err := os.Remove(pwFile); err != nil {
			t.Fatal(err)
		}
		if err := tt.make(); err != nil {
			t.Fatal(err)
		}
		reloadWithin(t, td)
		if e := td.d.ConfigError(); !strings.Contains(e, "registries[0].passwordFile: "+pwFile+" "+tt.want) {
			t.Errorf("%s: ConfigError = %q", tt.name, e)
		}
		if got, err := td.client.Credentials(ctx, "a.example"); err != nil || got.Secret != "first" {
			t.Errorf("%s: the old password is not served: %v", tt.name, err)
		}
	}
	if strings.Contains(td.logs.String(), shadowLine) {
		t.Error("the log quotes the secret file")
	}

	if err := os.Remove(pwFile); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pwFile, []byte("second\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reloadWithin(t, td)
	if got, err := td.client.Credentials(ctx, "a.example"); err != nil || got.Secret != "second" || td.d.ConfigError() != "" {
		t.Errorf("fixed file not picked up: %v, ConfigError %q", err, td.d.ConfigError())
	}
}

// A config edit that pastes secrets where they do not belong is refused,
// and neither status (read by the whole socket group) nor the log quotes
// them; the old config keeps serving.
func TestRefusedConfigEchoesNoSecret(t *testing.T) {
	const s = "wJalrXUtnFEMIK7MDENGbPxRfiCY"
	td := startDaemon(t, "registries:\n"+basicConfig("a", "a.example", "pw-a"))
	ctx := context.Background()
	for _, reg := range []string{
		`{name: b, type: basic, endpoint: "https://b.example/v2/?access_token=` + s + `", username: u, passwordEnv: PW}`,
		`{name: b, type: basic, endpoint: "https://robot:` + s + `@b.example", username: u, passwordEnv: PW}`,
		`{name: b, type: basic, endpoint: b.example, username: u, passwordEnv: ` + s + `}`,
		`{name: b, type: ecr, endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com, credentials: ` + s + `}`,
	} {
		writeConfig(t, td.config, "registries:\n"+basicConfig("a", "a.example", "pw-a")+"  - "+reg+"\n")
		reloadWithin(t, td)
		st, err := td.client.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.ConfigError == "" || len(st.Registries) != 1 {
			t.Errorf("config with a secret in the wrong place was applied: %d registries", len(st.Registries))
		}
		body, _ := json.Marshal(st)
		if strings.Contains(strings.ToLower(string(body)), strings.ToLower(s)) {
			t.Errorf("status quotes the secret: %s", strings.ReplaceAll(string(body), s, "<SECRET>"))
		}
		if got, err := td.client.Credentials(ctx, "a.example"); err != nil || got.Secret != "pw-a" {
			t.Errorf("the old config stopped serving: %v", err)
		}
	}
	if strings.Contains(strings.ToLower(td.logs.String()), strings.ToLower(s)) {
		t.Error("the log quotes the secret")
	}
}

// A state folder others may write to is not read: the token planted there
// under the name the config gives away is not served, the daemon fetches
// its own, and the log says why the cache was passed over.
func TestStateCacheOpenToOthersIsNotRead(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o1777); err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()
	aws := &fakeAWS{clock: clock, life: 12 * time.Hour, calls: map[string]int{}}
	cfg := parse(t, "registries:\n"+ecrRegistry("a", "111111111111", "us-west-2", "AKIAAAAAAAAAAAAAAAAA"))
	reg := cfg.Registries[0]
	planted := filepath.Join(dir, tokencache.Name(string(ecrtoken.KeyOf(reg))))
	if err := os.WriteFile(planted, []byte(`{"password":"planted-token","expiresAt":"2099-01-01T00:00:00Z"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	s := newTokenStore(aws.fetch, clock, slog.New(slog.NewTextHandler(&logs, nil)))
	s.cache = tokencache.New(dir, clock.Now)
	t.Cleanup(s.close)
	s.sync(cfg)
	got, err := s.Token(context.Background(), reg)
	if err != nil || got.Password.Reveal() != "token-1" {
		t.Errorf("Token = %v; want the token AWS issued, not the planted one", err)
	}
	if !strings.Contains(logs.String(), "state cache not used") || !strings.Contains(logs.String(), "is open to other users (mode 0777)") {
		t.Errorf("log does not say why the cache was passed over:\n%s", logs.String())
	}
}

// keepAlive opens a connection, asks path over HTTP/1.1 (keep-alive) and
// reads the whole answer: a connection the server has accepted and that
// now sits idle.
func keepAlive(t *testing.T, network, addr, path string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	r := bufio.NewReader(c)
	ask(t, c, r, path, 10*time.Second)
	return c, r
}

// ask sends one request on c and reads its answer, failing the test if
// none comes within wait.
func ask(t *testing.T, c net.Conn, r *bufio.Reader, path string, wait time.Duration) {
	t.Helper()
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: ocicred\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := answered(c, r, wait); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

func answered(c net.Conn, r *bufio.Reader, wait time.Duration) error {
	if err := c.SetReadDeadline(time.Now().Add(wait)); err != nil {
		return err
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return err
}

// An idle keep-alive connection is closed by the daemon, on the socket
// and on the metrics port, instead of holding a file descriptor for good.
func TestIdleConnectionsAreClosed(t *testing.T) {
	addr := freeAddr(t)
	td := startDaemon(t, "metrics: "+addr+"\nregistries:\n"+basicConfig("a", "a.example", "pw"), func(o *Options) {
		o.IdleTimeout = 50 * time.Millisecond
	})
	for _, ep := range []struct{ network, addr, path string }{{"unix", td.socket, "/v1/list"}, {"tcp", addr, "/metrics"}} {
		c, r := keepAlive(t, ep.network, ep.addr, ep.path)
		if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, err := r.ReadByte(); !errors.Is(err, io.EOF) {
			t.Errorf("%s %s: idle connection not closed by the daemon: %v", ep.network, ep.addr, err)
		}
	}
}

// Past the connection limit, a new connection waits until one closes:
// idle connections can no longer use up the daemon's file descriptors.
func TestConnectionLimit(t *testing.T) {
	addr := freeAddr(t)
	td := startDaemon(t, "metrics: "+addr+"\nregistries:\n"+basicConfig("a", "a.example", "pw"), func(o *Options) {
		o.SocketMaxConns, o.MetricsMaxConns = 2, 2
	})
	for _, ep := range []struct{ network, addr, path string }{{"unix", td.socket, "/v1/list"}, {"tcp", addr, "/metrics"}} {
		first, _ := keepAlive(t, ep.network, ep.addr, ep.path)
		keepAlive(t, ep.network, ep.addr, ep.path)
		extra, err := net.Dial(ep.network, ep.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer extra.Close()
		r := bufio.NewReader(extra)
		if _, err := io.WriteString(extra, "GET "+ep.path+" HTTP/1.1\r\nHost: ocicred\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		// A correct daemon never answers here; one without a limit answers
		// in well under the wait.
		if err := answered(extra, r, 500*time.Millisecond); err == nil {
			t.Errorf("%s: a third connection was served while two were held open, with a limit of 2", ep.network)
		}
		first.Close()
		if err := answered(extra, r, 10*time.Second); err != nil {
			t.Errorf("%s: the waiting connection was not served once a slot freed: %v", ep.network, err)
		}
	}
}

// A daemon waiting on AWS for a registry's first token says at once that
// it is alive (102 Processing), so a client whose deadline for dead
// daemons is shorter than FirstTokenWait waits for the answer instead of
// giving up on a working daemon.
func TestWaitingDaemonSaysItIsAlive(t *testing.T) {
	clock := newFakeClock()
	aws := &fakeAWS{clock: clock, life: 12 * time.Hour, calls: map[string]int{}, gate: make(chan struct{})}
	td := startDaemon(t, "registries:\n"+ecrRegistry("prod", "123456789012", "us-west-2", "AKIAAAAAAAAAAAAAAAAA"), func(o *Options) {
		o.Fetch, o.Clock = aws.fetch, clock
		o.FirstTokenWait = 1500 * time.Millisecond // AWS never answers: the daemon gives up after this
	})
	c := localapi.NewClient(td.socket)
	c.Deadline = 500 * time.Millisecond
	_, err := c.Credentials(context.Background(), "123456789012.dkr.ecr.us-west-2.amazonaws.com")
	if errors.Is(err, localapi.ErrUnreachable) || err == nil || !strings.Contains(err.Error(), "first token not there yet") {
		t.Errorf("Credentials = %v; want the daemon's own answer after FirstTokenWait", err)
	}
}

// A SIGHUP that comes while the daemon starts, once the socket exists
// (systemd may send it from then on), neither kills the daemon nor is
// lost: it is a reload once ready.
func TestSIGHUPWhileStarting(t *testing.T) {
	td := startDaemon(t, "registries:\n"+basicConfig("a", "a.example", "pw"), func(o *Options) {
		o.Debounce = time.Hour // only SIGHUP can reload
		o.listening = func() {
			if err := syscallKill(os.Getpid()); err != nil {
				t.Error(err)
			}
		}
	})
	// The config is the same, so the reload the SIGHUP asked for finds it
	// unchanged, and says so (at info, for a SIGHUP).
	td.ev.await(t, "config unchanged", 1)
	if !strings.Contains(td.logs.String(), "reason=SIGHUP") {
		t.Error("no reload for SIGHUP in the log")
	}
	if got, err := td.client.Credentials(context.Background(), "a.example"); err != nil || got.Secret != "pw" {
		t.Errorf("after SIGHUP: %v", err)
	}
}

// No link below hostsDir is followed: a host's folder or its hosts.toml
// replaced by a link to somewhere else gets no file written through it
// and is not removed through it; status says why.
func TestContainerdFollowsNoLinks(t *testing.T) {
	hostsDir := t.TempDir()
	elsewhere := t.TempDir()
	const host = "127.0.0.1:5000"
	if err := os.Symlink(elsewhere, filepath.Join(hostsDir, host)); err != nil {
		t.Fatal(err)
	}
	// hosts.toml itself a link, to a file that looks like one of ours.
	if err := os.Mkdir(filepath.Join(hostsDir, "other.example"), 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(elsewhere, "target")
	ours := containerdhosts.Marker + "server = \"https://x\"\n"
	if err := os.WriteFile(target, []byte(ours), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, containerdhosts.Path(hostsDir, "other.example")); err != nil {
		t.Fatal(err)
	}
	// A registry gone from the config whose folder is a link to a folder
	// holding one of our files: prune must not remove it.
	gone := t.TempDir()
	if err := os.WriteFile(filepath.Join(gone, "hosts.toml"), []byte(ours), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(gone, filepath.Join(hostsDir, "gone.example")); err != nil {
		t.Fatal(err)
	}

	td := startDaemon(t, containerdConfig(hostsDir, basicConfig("local", "http://"+host, "pw-local"),
		basicConfig("other", "other.example", "pw-other")))
	st, err := td.client.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r := st.Registries[0]; !strings.Contains(r.LastError, "is a symbolic link; ocicred follows no links below containerd.hostsDir") {
		t.Errorf("status of a registry whose folder is a link: %+v", r)
	}
	if r := st.Registries[1]; !strings.Contains(r.LastError, "was not written by ocicred; left alone") {
		t.Errorf("status of a registry whose hosts.toml is a link: %+v", r)
	}
	for _, path := range []string{filepath.Join(elsewhere, "hosts.toml")} {
		if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s was written through a link: %v", path, err)
		}
	}
	if data, err := os.ReadFile(target); err != nil || string(data) != ours {
		t.Errorf("the link's target was changed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(gone, "hosts.toml")); err != nil {
		t.Errorf("a file was removed through a link: %v", err)
	}
	if got, err := td.client.Credentials(context.Background(), host); err != nil || got.Secret != "pw-local" {
		t.Errorf("the daemon stopped serving: %v", err)
	}
}

// Temp files that an interrupted write left (.hosts.toml<digits>, holding
// an Authorization header) are removed at start, in every host's folder,
// and again on every write; anything else is left alone.
func TestContainerdRemovesStaleTempFiles(t *testing.T) {
	hostsDir := t.TempDir()
	const host = "127.0.0.1:5000"
	write := func(dir, name, body string) string {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(hostsDir, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(hostsDir, dir, name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	half := containerdhosts.Marker + "server = \"http://127.0.0.1:5000\"\n[host.\"http://127.0.0.1:5000\"]\n  header = {Authorization = [\"Basic c2VjcmV0"
	stale := []string{
		write(host, ".hosts.toml123456789", half),
		write(host, ".hosts.toml42", ""),
		write("left.example", ".hosts.toml987", half), // a registry no longer in the config
	}
	kept := []string{
		write(host, ".hosts.toml.bak", half),          // not a temp name
		write(host, ".hosts.toml77", "the admin's\n"), // not ours
	}
	td := startDaemon(t, containerdConfig(hostsDir, basicConfig("local", "http://"+host, "pw-local")))
	for _, path := range stale {
		if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("stale temp file %s not removed at start: %v", path, err)
		}
	}
	for _, path := range kept {
		if _, err := os.Lstat(path); err != nil {
			t.Errorf("%s, not a temp file of ours, was removed: %v", path, err)
		}
	}

	again := write(host, ".hosts.toml555", half)
	writeConfig(t, td.config, containerdConfig(hostsDir, basicConfig("local", "http://"+host, "pw-local-2")))
	td.d.Reload("test")
	if _, err := os.Lstat(again); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale temp file %s not removed on a write: %v", again, err)
	}
	if h, err := readHosts(t, hostsDir, host); err != nil || wantHeader(h, "http://"+host, "user-local", "pw-local-2") != nil {
		t.Errorf("hosts.toml after the write: %v", err)
	}
}

// A host's folder that another user owns, or that others may write to, is
// not written into: whoever can change it could swap the file under us.
func TestContainerdWritesOnlyIntoOurFolders(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a folder to another user")
	}
	hostsDir := t.TempDir()
	for host, setup := range map[string]func(string) error{
		"theirs.example": func(p string) error { return os.Chown(p, 65534, 65534) },
		"open.example":   func(p string) error { return os.Chmod(p, 0o777) },
	} {
		p := filepath.Join(hostsDir, host)
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := setup(p); err != nil {
			t.Fatal(err)
		}
	}
	td := startDaemon(t, containerdConfig(hostsDir, basicConfig("theirs", "theirs.example", "pw-1"), basicConfig("open", "open.example", "pw-2")))
	st, err := td.client.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"belongs to uid 65534, not to the daemon's user", "may be written by others (mode 0777)"} {
		if r := st.Registries[i]; !strings.Contains(r.LastError, want) {
			t.Errorf("status of %s: %q, want %q", r.Name, r.LastError, want)
		}
		if _, err := os.Lstat(containerdhosts.Path(hostsDir, st.Registries[i].Endpoint)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: hosts.toml written into a folder others can change", st.Registries[i].Name)
		}
	}
}

// A registry that allow restricts is left out of what serves the whole
// node (containerd's hosts.toml, the kubelet plugin) unless nodeWide: true
// opts it in; status says so. The allowed users still get it.
func TestAllowKeepsRegistryOffNodeWideConsumers(t *testing.T) {
	hostsDir := t.TempDir()
	restricted := "  - {name: team, type: basic, endpoint: team.example, username: u, password: pw-team, allow: [root]}\n"
	opened := "  - {name: shared, type: basic, endpoint: shared.example, username: u, password: pw-shared, allow: [root], nodeWide: true}\n"
	td := startDaemon(t, containerdConfig(hostsDir, restricted, opened))
	ctx := context.Background()

	if _, err := os.Lstat(containerdhosts.Path(hostsDir, "team.example")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("hosts.toml written for a registry that allow restricts: %v", err)
	}
	if _, err := readHosts(t, hostsDir, "shared.example"); err != nil {
		t.Errorf("nodeWide: true: %v", err)
	}
	st, err := td.client.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r := st.Registries[0]; !strings.Contains(r.Note, "allow restricts it") || !strings.Contains(r.Note, "nodeWide: true") {
		t.Errorf("status of the restricted registry does not say it is left out: %+v", r)
	}
	if r := st.Registries[1]; r.Note != "" {
		t.Errorf("status of the nodeWide registry: note %q", r.Note)
	}

	kubelet := localapi.NewClient(td.socket)
	kubelet.Name = localapi.ClientKubelet
	if _, err := kubelet.Credentials(ctx, "team.example"); !errors.Is(err, localapi.ErrNotFound) {
		t.Errorf("the kubelet plugin got a registry that allow restricts: %v", err)
	}
	if got, err := kubelet.Credentials(ctx, "shared.example"); err != nil || got.Secret != "pw-shared" {
		t.Errorf("the kubelet plugin and a nodeWide registry: %v", err)
	}
	if got, err := td.client.Credentials(ctx, "team.example"); err != nil || got.Secret != "pw-team" {
		t.Errorf("an allowed caller (root, through the helper): %v", err)
	}

	// A hosts.toml written before allow was added goes with the next reload.
	writeConfig(t, td.config, containerdConfig(hostsDir, restricted, strings.Replace(opened, ", nodeWide: true", "", 1)))
	td.d.Reload("test")
	if _, err := os.Lstat(containerdhosts.Path(hostsDir, "shared.example")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("hosts.toml kept after nodeWide was removed: %v", err)
	}
}

// A token that arrives already expired (the node's clock ahead by more
// than its lifetime) is a failed refresh: retried with backoff, not every
// second for good, and status says the clock looks wrong.
func TestTokenExpiredOnArrivalBacksOff(t *testing.T) {
	s, clock, aws := newTestStore(t)
	aws.life = -time.Hour // issued by a clock 12 h behind ours, say
	cfg := parse(t, "registries:\n"+ecrRegistry("a", "111111111111", "us-west-2", "AKIAAAAAAAAAAAAAAAAA"))
	reg := cfg.Registries[0]
	s.sync(cfg)
	for i := range 6 {
		w := clock.waitSleepers(t, 1)[0]
		want := time.Second << i
		if w < time.Duration(float64(want)*0.8) || w > time.Duration(float64(want)*1.2) {
			t.Errorf("wait after expired token %d = %v, want %v ±20%%", i+1, w, want)
		}
		var rs localapi.RegistryStatus
		s.status(reg, &rs)
		if rs.State != localapi.StateError || !strings.Contains(rs.LastError, "the node's clock looks wrong") {
			t.Fatalf("status = %+v; want error, saying the clock looks wrong", rs)
		}
		clock.Advance(w)
	}
	if _, err := s.Token(context.Background(), reg); err == nil || !strings.Contains(err.Error(), "clock looks wrong") {
		t.Errorf("Token = %v; want the clock error", err)
	}
}
