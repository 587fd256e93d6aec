package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestSetupWithConfigElsewhere: `ocicred setup docker --config FILE` for a
// file the helper will not read (docker runs it without --config, so it
// reads OCICRED_CONFIG or /etc/ocicred/config.yaml) refuses with exit 2
// and says what to do, leaving docker's config as it was; with
// OCICRED_CONFIG=FILE in the environment, as the message says, setup wires
// docker and crane pulls through the helper with no daemon running.
func TestSetupWithConfigElsewhere(t *testing.T) {
	t.Parallel()
	Need(t, needs(registryTools, []string{"crane"})...)
	s := newScenario(t)
	WriteDockerConfig(t, s.DockerConfig, DockerConfig{})
	dockerConfig := filepath.Join(s.DockerConfig, "config.json")
	before := ReadFile(t, dockerConfig)

	s.SetVar("OCICRED_CONFIG", "/etc/ocicred/config.yaml") // what the clients would read
	r := s.Run(t, "", s.Bin.Ocicred, "setup", "docker", "--config", s.Config)
	if code := r.ExitCode; code != 2 || !strings.Contains(r.Stderr, "OCICRED_CONFIG="+s.Config) {
		t.Errorf("setup docker --config elsewhere: exit %d, stderr %q; want exit 2 naming OCICRED_CONFIG=%s", code, r.Stderr, s.Config)
	}
	if after := ReadFile(t, dockerConfig); after != before {
		t.Errorf("the refused setup changed docker's config:\n%s", after)
	}
	mark := s.reg.Mark()
	if _, pull := s.CranePull(t, s.ref, s.image); !IsUnauthorized(pull) {
		t.Errorf("crane pull before setup: exit %d, want a 401 (no helper wired)", pull.ExitCode)
	}
	s.reg.assertRefusedByRegistry(t, mark, "crane before setup", "")

	s.UnsetVar("OCICRED_CONFIG") // back to OCICRED_CONFIG=FILE, as the message says
	s.Setup(t, "docker")
	s.assertCranePulls(t)
}
