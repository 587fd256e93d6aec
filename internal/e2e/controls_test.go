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
		s.assertRefused(t)
		d.Stop(t)
		assertNoSecret(t, "the daemon log", d.Log(), wrong)
	})
	t.Run("no credHelpers entry", func(t *testing.T) {
		t.Parallel()
		s := newScenario(t)
		WriteDockerConfig(t, s.DockerConfig, DockerConfig{})
		StartDaemon(t, s.Env)
		s.assertRefused(t)
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
		s.assertRefused(t)
	})
}

// TestIsolatedHelperNeedsDaemon is the control for TestPullThroughDaemon: the
// isolated helper, with no daemon, must not come up with credentials, so the
// pulls there did go through the daemon.
func TestIsolatedHelperNeedsDaemon(t *testing.T) {
	t.Parallel()
	Need(t, needs(registryTools, []string{"crane"})...)
	s := newScenario(t)
	s.HelperWithoutFallback(t)
	r := s.Run(t, s.reg.Host, s.Helper, "get")
	if r.ExitCode == 0 || strings.Contains(r.Stdout, s.reg.Password) {
		t.Errorf("isolated helper with no daemon: exit %d, want a failure without credentials", r.ExitCode)
	}
	if _, pull, _ := s.CranePull(t, s.ref); pull.Err == nil {
		t.Errorf("crane pull succeeded with neither the daemon nor the fallback")
	}
}

// assertRefused checks that crane and skopeo both fail with 401.
func (s *scenario) assertRefused(t *testing.T) {
	t.Helper()
	if _, pull, _ := s.CranePull(t, s.ref); !IsUnauthorized(pull) {
		t.Errorf("crane pull: exit %d, want a 401/UNAUTHORIZED failure", pull.ExitCode)
	}
	if _, r := s.SkopeoCopy(t, s.ref); !IsUnauthorized(r) {
		t.Errorf("skopeo copy: exit %d, want a 401/unauthorized failure", r.ExitCode)
	}
}

func splitHostPort(t *testing.T, hostport string) (string, string) {
	t.Helper()
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		t.Fatal(err)
	}
	return host, port
}
