package e2e

import (
	"encoding/json"
	"os"
	"regexp"
	"testing"
)

// The client tests (clients_*_test.go) each drive one real client against
// the registry of a scenario, through docker-credential-ocicred and the
// daemon, with the client wired by `ocicred setup`, never by hand. Each
// proves that it can fail: before the setup (no credentials sent), and with
// a wrong password in the ocicred config (that password sent), the registry
// itself answers 401. Each pull that succeeds writes the manifest and the
// blobs, and what it wrote is checked against their digests.

// newClientScenario is a scenario with nothing wired yet: the docker config
// is empty, and the helper on PATH cannot answer without the daemon, so a
// pull that succeeds got its credentials from the daemon.
func newClientScenario(t *testing.T) *scenario {
	t.Helper()
	s := newScenario(t)
	s.HelperWithoutFallback(t)
	WriteDockerConfig(t, s.DockerConfig, DockerConfig{})
	return s
}

// refusedRE is what clients print when the registry answered 401. After a
// 401 with a Basic challenge and no credentials to answer it with, the
// docker daemon says "no basic auth credentials" and oras-go (oras, helm)
// "basic credential not found".
var refusedRE = regexp.MustCompile(`(?i)unauthorized|\b401\b|no basic auth credentials|basic credential not found`)

// isRefused reports whether a failed client run says the registry refused it
// for lack of (valid) credentials.
func isRefused(r Result) bool {
	return r.Err != nil && refusedRE.MatchString(r.Output())
}

// wiring is one client: how `ocicred setup` wires it, where that must write
// the credHelpers entry, and how the client pulls.
type wiring struct {
	client   string   // ocicred setup CLIENT
	args     []string // more setup arguments
	authFile string   // the file setup must edit
	// pull pulls the test artifact and returns the manifest digest the
	// client got, which must be want.
	pull func(t *testing.T) (digest string, r Result)
	want string
}

// assertWiredBySetup takes the client through three states, each with the
// daemon up: not wired (refused), wired by `ocicred setup` with a wrong
// password in the ocicred config (refused), wired with the right password
// (pulls want). It leaves the daemon stopped and the client wired.
func (s *scenario) assertWiredBySetup(t *testing.T, w wiring) {
	t.Helper()
	d := StartDaemon(t, s.Env)
	t.Run("before setup: refused", func(t *testing.T) {
		mark := s.reg.Mark()
		if _, r := w.pull(t); !isRefused(r) {
			t.Errorf("%s pull with no credHelpers entry: exit %d, want a 401/unauthorized failure", w.client, r.ExitCode)
		}
		s.reg.assertRefusedByRegistry(t, mark, w.client, "") // nothing asked ocicred: no credentials
	})
	s.Setup(t, w.client, w.args...)
	s.assertCredHelper(t, w.authFile)
	d.Stop(t)

	wrong := Secret("wrong")
	s.Secrets = append(s.Secrets, wrong)
	WriteOcicredConfig(t, s.Config, BasicRegistry{ // inline secret: the file is 0600
		Name: "local", Endpoint: "http://" + s.reg.Host, Username: s.reg.User, Password: wrong,
	})
	d = StartDaemon(t, s.Env)
	t.Run("wrong password in the ocicred config: refused", func(t *testing.T) {
		mark := s.reg.Mark()
		if _, r := w.pull(t); !isRefused(r) {
			t.Errorf("%s pull with a wrong password behind the helper: exit %d, want a 401/unauthorized failure", w.client, r.ExitCode)
		}
		s.reg.assertRefusedByRegistry(t, mark, w.client, s.reg.User) // the wrong password reached the registry
	})
	d.Stop(t)
	assertNoSecret(t, "the daemon log", d.Log(), wrong)

	WriteOcicredConfig(t, s.Config, BasicRegistry{
		Name: "local", Endpoint: "http://" + s.reg.Host, Username: s.reg.User,
		PasswordFile: WritePasswordFile(t, s.Root, s.reg.Password),
	})
	d = StartDaemon(t, s.Env)
	t.Run("after setup: pulls through the daemon", func(t *testing.T) {
		digest, r := w.pull(t)
		if r.Err != nil {
			t.Fatalf("%s pull through ocicred: %v", w.client, r.Err)
		}
		if digest != w.want {
			t.Errorf("%s pulled digest %q, pushed %s", w.client, digest, w.want)
		}
		assertNoSecret(t, w.client+"'s output", r.Output(), s.reg.Password)
	})
	d.Stop(t)
	assertNoSecret(t, "the daemon log", d.Log(), s.reg.Password)
}

// assertCredHelper checks that path routes the registry to ocicred.
func (s *scenario) assertCredHelper(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("ocicred setup did not write %s: %v", path, err)
	}
	var cfg DockerConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if got := cfg.CredHelpers[s.reg.Host]; got != "ocicred" {
		t.Errorf("%s: credHelpers[%q] = %q, want ocicred", path, s.reg.Host, got)
	}
}
