package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestIPv6LiteralEndpoint: a registry listening on [::1], configured as
// http://[::1]:PORT. Every client wiring works with the IPv6 literal:
// crane through the helper (daemon up, then down), containerd 1.6 through
// the daemon's hosts.toml (whose parser rejects a `[host."http://[::1]:…"]`
// table header, so the file must use an inline table), the kubelet plugin
// as setup kubelet installs it, and `ocicred check`. The controls: with no
// hosts.toml containerd gets 401, and crane with no helper gets 401.
func TestIPv6LiteralEndpoint(t *testing.T) {
	t.Parallel()
	Need(t, needs(registryTools, containerdTools, []string{"crane"})...)
	RequireRoot(t, "runs containerd")
	s := newScenarioWith(t, StartRegistryIPv6)
	if !strings.HasPrefix(s.reg.Host, "[::1]:") {
		t.Fatalf("the registry listens on %s, want [::1]", s.reg.Host)
	}
	hostsDir := filepath.Join(s.Root, "certs.d")
	SetContainerdHostsDir(t, s.Config, hostsDir)
	ctd := StartContainerd(t, hostsDir)

	WriteDockerConfig(t, s.DockerConfig, DockerConfig{})
	if _, pull := s.CranePull(t, s.ref, s.image); !IsUnauthorized(pull) {
		t.Fatalf("control: crane pull with no helper wired: exit %d, want 401", pull.ExitCode)
	}
	if r := ctd.CtrPull(t, s.Env, s.ref, s.image); !IsUnauthorized(r) {
		t.Fatalf("control: ctr pull with no hosts.toml: exit %d, want 401", r.ExitCode)
	}

	d := StartDaemon(t, s.Env)
	s.Setup(t, "docker")
	t.Run("crane, daemon up", s.assertCranePulls)
	t.Run("containerd", func(t *testing.T) {
		WaitHostsFile(t, hostsDir, s.reg.Host, 10*time.Second, "written", func(HostsFile) bool { return true })
		r := ctd.CtrPull(t, s.Env, s.ref, s.image)
		if r.Err != nil || !strings.Contains(r.Output(), s.digest) {
			t.Fatalf("ctr pull through hosts.toml: exit %d, want success with %s\n%s", r.ExitCode, s.digest, lastLines(r.Output(), 5))
		}
	})
	t.Run("kubelet plugin", func(t *testing.T) {
		resp := s.runInstalledKubeletPlugin(t)
		s.assertKubeletAuth(t, resp, s.reg.Password)
		s.assertKubeletAuthPulls(t, resp)
	})
	t.Run("check", func(t *testing.T) {
		if r := s.Run(t, "", s.Bin.Ocicred, "check", "--config", s.Config, "--socket", s.Socket); r.Err != nil {
			t.Errorf("ocicred check: exit %d\n%s", r.ExitCode, r.Output())
		}
	})
	d.Stop(t)
	t.Run("crane, daemon down", s.assertCranePulls)
}
