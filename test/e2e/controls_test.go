package e2e

import (
	"encoding/base64"
	"net"
	"strings"
	"testing"
)

// TestHarnessControl: the registry, the image and the clients work with plain
// `auths` credentials and no ocicred at all, so a failure elsewhere in the
// suite points at ocicred, not at the stage.
func TestHarnessControl(t *testing.T) {
	t.Parallel()
	Need(t, needs(registryTools, []string{"crane", "skopeo"})...)
	s := newScenario(t)
	auth := base64.StdEncoding.EncodeToString([]byte(s.reg.User + ":" + s.reg.Password))
	WriteDockerConfig(t, s.DockerConfig, DockerConfig{Auths: map[string]DockerAuth{s.reg.Host: {Auth: auth}}})
	t.Run("crane", s.assertCranePulls)
	t.Run("skopeo", s.assertSkopeoPulls)
}

// TestUnauthorizedControls prove that the suite can fail: each breaks one link
// between the client and the registry's password, and the pull must then be
// refused by the registry (401), with the daemon up.
func TestUnauthorizedControls(t *testing.T) {
	t.Parallel()
	Need(t, needs(registryTools, []string{"crane", "skopeo"})...)
	t.Run("wrong password in the ocicred config", func(t *testing.T) {
		t.Parallel()
		s := newScenario(t)
		wrong := Secret("wrong")
		s.Secrets = append(s.Secrets, wrong)
		WriteOcicredConfig(t, s.Config, BasicRegistry{ // inline secret: the file is 0600
			Name: "local", Endpoint: "http://" + s.reg.Host, Username: s.reg.User, Password: wrong,
		})
		d := StartDaemon(t, s.Env)
		s.assertRefused(t, s.reg.User) // the wrong password reached the registry
		d.Stop(t)
		assertNoSecret(t, "the daemon log", d.Log(), wrong)
	})
	t.Run("no credHelpers entry", func(t *testing.T) {
		t.Parallel()
		s := newScenario(t)
		WriteDockerConfig(t, s.DockerConfig, DockerConfig{})
		StartDaemon(t, s.Env)
		s.assertRefused(t, "") // no helper asked: no credentials
	})
	t.Run("endpoint names another host", func(t *testing.T) {
		t.Parallel()
		s := newScenario(t)
		// localhost:PORT is the same registry, but credHelpers and the
		// client say 127.0.0.1:PORT: no match, so the helper says not found.
		_, port := splitHostPort(t, s.reg.Host)
		WriteOcicredConfig(t, s.Config, BasicRegistry{
			Name: "local", Endpoint: "http://localhost:" + port, Username: s.reg.User,
			PasswordFile: WritePasswordFile(t, s.Root, s.reg.Password),
		})
		StartDaemon(t, s.Env)
		r := s.Run(t, s.reg.Host, s.Helper, "get")
		if !isNotFound(r) {
			t.Errorf("helper get %s: exit %d stdout %q, want exit 1 %q", s.reg.Host, r.ExitCode, s.Redact(r.Stdout), notFound)
		}
		s.assertRefused(t, "") // not found: the clients go on without credentials
	})
}

// TestIsolatedHelperNeedsDaemon is the control for TestPullThroughDaemon: the
// isolated helper, with no daemon, must not come up with credentials, so the
// pulls there did go through the daemon. Its answer is an error saying the
// daemon is not reachable (not docker's not-found, which would send crane
// on anonymously to a 401): crane must fail on that very answer, and the
// registry must have given it nothing.
func TestIsolatedHelperNeedsDaemon(t *testing.T) {
	t.Parallel()
	Need(t, needs(registryTools, []string{"crane"})...)
	s := newScenario(t)
	s.HelperWithoutFallback(t)
	r := s.Run(t, s.reg.Host, s.Helper, "get")
	const unreachable = "the ocicred daemon is not reachable and no ocicred program was found"
	if r.ExitCode != 1 || !strings.HasPrefix(r.Stdout, unreachable) || strings.Contains(r.Stdout, s.reg.Password) {
		t.Errorf("isolated helper with no daemon: exit %d stdout %q, want exit 1 and %q…", r.ExitCode, s.Redact(r.Stdout), unreachable)
	}
	mark := s.reg.Mark()
	if _, pull := s.CranePull(t, s.ref, s.image); pull.Err == nil || !strings.Contains(pull.Output(), "error getting credentials") ||
		!strings.Contains(pull.Output(), unreachable) {
		t.Errorf("crane pull with neither the daemon nor the fallback: exit %d, want a failure on the helper's answer", pull.ExitCode)
	}
	s.reg.assertServedNothing(t, mark, "crane")
}

// assertRefused checks that crane and skopeo both fail with 401, and that
// the registry answered them 401 to a request with user's credentials (""
// for none).
func (s *scenario) assertRefused(t *testing.T, user string) {
	t.Helper()
	mark := s.reg.Mark()
	if _, pull := s.CranePull(t, s.ref, s.image); !IsUnauthorized(pull) {
		t.Errorf("crane pull: exit %d, want a 401/UNAUTHORIZED failure", pull.ExitCode)
	}
	s.reg.assertRefusedByRegistry(t, mark, "crane", user)
	mark = s.reg.Mark()
	if _, r := s.SkopeoCopy(t, s.ref, s.image); !IsUnauthorized(r) {
		t.Errorf("skopeo copy: exit %d, want a 401/unauthorized failure", r.ExitCode)
	}
	s.reg.assertRefusedByRegistry(t, mark, "skopeo", user)
}

func splitHostPort(t *testing.T, hostport string) (string, string) {
	t.Helper()
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		t.Fatal(err)
	}
	return host, port
}
