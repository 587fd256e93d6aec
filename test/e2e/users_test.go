package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// accessScenario is the real daemon (as root) with socketGroup set, four
// Basic registries whose passwords sit in files only root reads, and three
// users made for the test: one outside the socket group, one in it, one in
// it and in a team group.
type accessScenario struct {
	*Env
	pub                        string // the public folder: config, socket, binaries
	sockGroup, teamGroup       string
	outsider, member, teammate TestUser
	secrets                    map[string]string // by registry name
}

func newAccessScenario(t *testing.T) *accessScenario {
	t.Helper()
	pub := PublicDir(t)
	bin := PublicBinaries(t, BuildBinaries(t), pub)
	env := NewEnv(t, bin)
	env.Config = filepath.Join(pub, "config.yaml")
	env.Socket = filepath.Join(pub, "run", "ocicred.sock")
	if err := os.MkdirAll(filepath.Dir(env.Socket), 0o755); err != nil {
		t.Fatal(err)
	}
	base := UniqueName()
	s := &accessScenario{Env: env, pub: pub, sockGroup: base + "-s", teamGroup: base + "-g", secrets: map[string]string{}}
	CreateGroup(t, s.sockGroup)
	CreateGroup(t, s.teamGroup)
	s.outsider = CreateUser(t, base+"-o")
	s.member = CreateUser(t, base+"-m", s.sockGroup)
	s.teammate = CreateUser(t, base+"-t", s.sockGroup, s.teamGroup)

	secretDir := filepath.Join(pub, "secrets") // root only
	if err := os.Mkdir(secretDir, 0o700); err != nil {
		t.Fatal(err)
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "socketGroup: %s\nregistries:\n", s.sockGroup)
	for _, r := range []struct{ name, allow string }{
		{"open", ""},
		{"byuser", "[root, " + s.member.Name + "]"},
		{"bygroup", `[root, "group:` + s.teamGroup + `"]`},
		{"rootonly", "[root]"},
		{"memberonly", "[" + s.member.Name + "]"}, // allow binds root too
	} {
		pw := Secret(r.name)
		s.secrets[r.name] = pw
		env.Secrets = append(env.Secrets, pw)
		file := filepath.Join(secretDir, r.name)
		writeFile(t, file, pw+"\n")
		fmt.Fprintf(&cfg, "  - {name: %s, type: basic, endpoint: %s.example, username: u-%s, passwordFile: %s", r.name, r.name, r.name, file)
		if r.allow != "" {
			fmt.Fprintf(&cfg, ", allow: %s", r.allow)
		}
		cfg.WriteString("}\n")
	}
	// No inline secret: the file may be world-readable, as the fallback of
	// users outside the socket group needs.
	if err := os.WriteFile(env.Config, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

// helperAs runs `docker-credential-ocicred get` as u (root when u is nil)
// with OCICRED_DEBUG=1, and logs it.
func (s *accessScenario) helperAs(t *testing.T, u *TestUser, registry string) Result {
	t.Helper()
	env := *s.Env
	env.Extra = append(append([]string{}, s.Extra...), "OCICRED_DEBUG=1")
	who := "root"
	start := time.Now()
	var r Result
	if u == nil {
		r = env.RunQuiet(registry+".example", s.Bin.Helper, "get")
	} else {
		who = u.Name
		r = env.RunAs(*u, s.pub, registry+".example", s.Bin.Helper, "get")
	}
	s.LogRun(t, r, time.Since(start), s.Bin.Helper, "get", "<<< "+registry+".example", "(as "+who+")")
	return r
}

// TestAccessControlWithRealUsers: the real helper, run as real users,
// against the real daemon with socketGroup set. A user outside the group
// cannot reach the socket; the helper falls back to `ocicred get`, which as
// that user cannot read the root-only password file: the answer is the
// line naming the registry, never the secret. A user in the group gets the
// registries whose allow admits it, by user name or group:NAME; root gets
// all. Each refusal is logged with the uid and the registry, never a
// secret.
func TestAccessControlWithRealUsers(t *testing.T) {
	t.Parallel()
	Need(t, userTools...)
	RequireRoot(t, "creates users with useradd and runs the helper as them")
	s := newAccessScenario(t)
	d := StartDaemon(t, s.Env)
	fi, err := os.Stat(s.Socket)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); fi.Mode().Perm() != 0o660 || st.Gid != s.member.Groups[0] {
		t.Fatalf("socket mode %v gid %d, want 0660 and the socket group %d", fi.Mode().Perm(), st.Gid, s.member.Groups[0])
	}

	const creds, refused, cannotRead = "credentials", "not found", "cannot read"
	want := map[string]map[string]string{
		"root":          {"open": creds, "byuser": creds, "bygroup": creds, "rootonly": creds, "memberonly": refused},
		s.member.Name:   {"open": creds, "byuser": creds, "bygroup": refused, "rootonly": refused, "memberonly": creds},
		s.teammate.Name: {"open": creds, "byuser": refused, "bygroup": creds, "rootonly": refused, "memberonly": refused},
		s.outsider.Name: {"open": cannotRead, "byuser": refused, "bygroup": refused, "rootonly": refused, "memberonly": refused},
	}
	users := map[string]*TestUser{"root": nil, s.member.Name: &s.member, s.teammate.Name: &s.teammate, s.outsider.Name: &s.outsider}
	for name, u := range users {
		for reg, w := range want[name] {
			t.Run(name+"/"+reg, func(t *testing.T) {
				r := s.helperAs(t, u, reg)
				out := strings.TrimSpace(r.Stdout)
				switch w {
				case creds:
					wantJSON := fmt.Sprintf(`{"ServerURL":"%s.example","Username":"u-%s","Secret":"%s"}`, reg, reg, s.secrets[reg])
					if r.ExitCode != 0 || out != wantJSON {
						t.Errorf("exit %d, want 0 and the registry's credentials", r.ExitCode)
					}
				case refused:
					if r.ExitCode != 1 || out != notFound {
						t.Errorf("exit %d stdout %q, want exit 1 %q", r.ExitCode, s.Redact(out), notFound)
					}
				case cannotRead:
					if r.ExitCode != 1 || strings.Contains(out, "\n") || !strings.HasPrefix(out, "registry "+reg+": ") ||
						!strings.Contains(out, "passwordFile") {
						t.Errorf("exit %d stdout %q, want exit 1 and one line naming registry %s and its passwordFile", r.ExitCode, s.Redact(out), reg)
					}
				}
				if u != nil && u.Name == s.outsider.Name && !strings.Contains(r.Stderr, "daemon not reachable") {
					t.Errorf("the outsider's helper did not fall back (stderr %q)", s.Redact(r.Stderr))
				}
				for other, sec := range s.secrets {
					if (w != creds || other != reg) && strings.Contains(r.Output(), sec) {
						t.Errorf("the answer holds the secret of %s", other)
					}
				}
			})
		}
	}

	for _, refusal := range []struct {
		u   TestUser
		reg string
	}{{s.member, "bygroup"}, {s.member, "rootonly"}, {s.teammate, "byuser"}, {s.teammate, "rootonly"}, {s.teammate, "memberonly"}} {
		re := regexp.MustCompile(`msg="refused caller" uid=` + fmt.Sprint(refusal.u.UID) + ` .*registry=` + refusal.reg + `\b`)
		d.WaitLog(t, fmt.Sprintf("refusing uid %d (%s) registry %s", refusal.u.UID, refusal.u.Name, refusal.reg), re.MatchString)
	}

	// A socket whose mode lets everyone connect (a careless chmod): the
	// daemon refuses the outsider by SO_PEERCRED and logs it.
	if err := os.Chmod(s.Socket, 0o666); err != nil {
		t.Fatal(err)
	}
	r := s.helperAs(t, &s.outsider, "open")
	if out := strings.TrimSpace(r.Stdout); r.ExitCode != 1 || !strings.HasPrefix(out, "this user may not ask the ocicred daemon") {
		t.Errorf("outsider through a 0666 socket: exit %d stdout %q, want the daemon's refusal", r.ExitCode, s.Redact(out))
	}
	if err := os.Chmod(s.Socket, 0o660); err != nil {
		t.Fatal(err)
	}
	outsider := fmt.Sprintf("uid=%d ", s.outsider.UID)
	refusedLine := d.WaitLog(t, "refusing the outsider "+outsider, func(line string) bool {
		return strings.Contains(line, `msg="refused caller"`) && strings.Contains(line, outsider)
	})
	// The log comes through a pipe, in order: all it said while the socket
	// was 0660 is before the line for the 0666 request.
	if before, _, _ := strings.Cut(d.Log(), refusedLine); strings.Contains(before, outsider) {
		t.Errorf("the daemon heard from the outsider through a 0660 socket")
	}
	t.Run("socket-group refusal names the registry", func(t *testing.T) {
		if !strings.Contains(refusedLine, "registry=open") && !strings.Contains(refusedLine, "open.example") {
			t.Errorf("a socket-group refusal does not name the registry: %s", s.Redact(refusedLine))
		}
	})

	d.Stop(t)
	for name, sec := range s.secrets {
		if strings.Contains(d.Log(), sec) {
			t.Errorf("the daemon log holds the secret of %s", name)
		}
	}
}

// TestWorldReadableInlineSecret: with the real binary, a config that holds
// an inline secret and that other users may read is refused at start (exit
// 2, saying what to do) and at reload (status configError; the previous
// config keeps serving). Making the file private again is applied.
func TestWorldReadableInlineSecret(t *testing.T) {
	t.Parallel()
	Need(t)
	env := NewEnv(t, BuildBinaries(t))
	pw := Secret("inline")
	env.Secrets = append(env.Secrets, pw)
	WriteOcicredConfig(t, env.Config, BasicRegistry{Name: "inline", Endpoint: "inline.example", Username: "u", Password: pw})

	if err := os.Chmod(env.Config, 0o644); err != nil {
		t.Fatal(err)
	}
	r := runBounded(t, env, 20*time.Second, env.Bin.Ocicred, "daemon", "--config", env.Config, "--socket", env.Socket)
	if r.ExitCode != 2 || !strings.Contains(r.Output(), "chmod o-r") || !strings.Contains(r.Output(), env.Config) {
		t.Errorf("daemon on a world-readable config with an inline secret: exit %d, want 2 and an error naming the file and chmod o-r", r.ExitCode)
	}
	if strings.Contains(r.Output(), pw) {
		t.Error("the refusal holds the secret")
	}

	if err := os.Chmod(env.Config, 0o600); err != nil {
		t.Fatal(err)
	}
	d := StartDaemon(t, env)
	if err := os.Chmod(env.Config, 0o644); err != nil { // the watcher sees the mode change
		t.Fatal(err)
	}
	st := waitConfigError(t, env, 10*time.Second, func(e string) bool { return strings.Contains(e, "readable by other users") })
	if strings.Contains(st.ConfigError, pw) {
		t.Error("configError holds the secret")
	}
	if a, r := env.HelperGet(t, "inline.example"); r.Err != nil || a.Secret != pw {
		t.Errorf("after the refused reload: exit %d; want the previous config serving", r.ExitCode)
	}
	if err := os.Chmod(env.Config, 0o600); err != nil {
		t.Fatal(err)
	}
	waitConfigError(t, env, 10*time.Second, func(e string) bool { return e == "" })
	d.Stop(t)
	assertNoSecret(t, "the daemon log", d.Log(), pw)
}

// waitConfigError polls `ocicred status --json` until cond holds for its
// configError.
func waitConfigError(t *testing.T, env *Env, timeout time.Duration, cond func(string) bool) Status {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st, r := env.Status(t)
		if r.Err == nil && cond(st.ConfigError) {
			t.Logf("status configError: %q", env.Redact(st.ConfigError))
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("status: configError %q (exit %d) after %s", env.Redact(st.ConfigError), r.ExitCode, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestConfigUnreadable: the real daemon runs as a user of its own (root
// reads every file whatever its mode, so a root daemon cannot show this).
// Its config made unreadable (chmod 000) is a refused reload: status says
// permission denied, the old config keeps serving; readable again, a new
// version is applied.
func TestConfigUnreadable(t *testing.T) {
	t.Parallel()
	Need(t, userTools...)
	RequireRoot(t, "runs the daemon as a user of its own")
	pub := PublicDir(t)
	bin := PublicBinaries(t, BuildBinaries(t), pub)
	owner := CreateUser(t, UniqueName()+"-d")
	home := filepath.Join(pub, "daemon") // the daemon user's: config, socket, token cache
	env := NewEnv(t, bin)
	env.Config = filepath.Join(home, "config.yaml")
	env.Socket = filepath.Join(home, "run", "ocicred.sock")
	env.Extra = append(env.Extra, "OCICRED_CACHE_DIR="+filepath.Join(home, "cache"))
	pw1, pw2 := Secret("v1"), Secret("v2")
	env.Secrets = append(env.Secrets, pw1, pw2)
	WriteOcicredConfig(t, env.Config, BasicRegistry{Name: "a", Endpoint: "a.example", Username: "u", Password: pw1})
	for _, p := range []string{home, env.Config} {
		if err := os.Chown(p, int(owner.UID), int(owner.GID)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(home, 0o755); err != nil {
		t.Fatal(err)
	}
	d := StartDaemonAs(t, env, owner, home)

	if err := os.Chmod(env.Config, 0); err != nil {
		t.Fatal(err)
	}
	st := waitConfigError(t, env, 10*time.Second, func(e string) bool { return e != "" })
	if !strings.Contains(st.ConfigError, "permission denied") || !strings.Contains(st.ConfigError, env.Config) {
		t.Errorf("configError %q, want the file and permission denied", env.Redact(st.ConfigError))
	}
	if a, r := env.HelperGet(t, "a.example"); r.Err != nil || a.Secret != pw1 {
		t.Errorf("with the config unreadable: exit %d; want the old config serving", r.ExitCode)
	}

	WriteOcicredConfig(t, env.Config, BasicRegistry{Name: "a", Endpoint: "a.example", Username: "u", Password: pw2})
	if err := os.Chmod(env.Config, 0o600); err != nil {
		t.Fatal(err)
	}
	waitConfigError(t, env, 10*time.Second, func(e string) bool { return e == "" })
	if a, r := env.HelperGet(t, "a.example"); r.Err != nil || a.Secret != pw2 {
		t.Errorf("once readable again: exit %d; want the new version", r.ExitCode)
	}
	d.Stop(t)
	assertNoSecret(t, "the daemon log", d.Log(), pw1)
	assertNoSecret(t, "the daemon log", d.Log(), pw2)
}

// runBounded runs a command that should exit on its own (a daemon refusing
// to start) in the sandbox, killing it after timeout, and logs it.
func runBounded(t *testing.T, env *Env, timeout time.Duration, name string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env.Environ()
	cmd.Dir = env.Root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := Result{Stdout: stdout.String(), Stderr: stderr.String(), ExitCode: exitCode(err), Err: err}
	env.LogRun(t, r, time.Since(start), name, args...)
	if ctx.Err() != nil {
		t.Errorf("%s still ran after %s: killed", filepath.Base(name), timeout)
	}
	return r
}
