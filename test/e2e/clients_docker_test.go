package e2e

import (
	"path/filepath"
	"testing"
)

// TestClientDocker: the docker CLI, talking to a private dockerd, pulls the
// image with credentials from ocicred after `ocicred setup docker`. The CLI
// calls the helper and hands the credentials to the daemon, which pulls.
func TestClientDocker(t *testing.T) {
	t.Parallel()
	Need(t, needs(registryTools, []string{"dockerd", "docker"})...)
	RequireRoot(t, "runs dockerd")
	s := newClientScenario(t)
	dockerd := StartDockerd(t, s.Env)
	s.assertWiredBySetup(t, wiring{
		client:   "docker",
		authFile: filepath.Join(s.DockerConfig, "config.json"),
		pull:     func(t *testing.T) (string, Result) { return dockerd.Pull(t, s.ref, s.image) },
		want:     s.digest,
	})
}
