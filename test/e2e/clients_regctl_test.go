package e2e

import (
	"path/filepath"
	"testing"
)

// TestClientRegctl: regctl pulls the image, manifest and blobs, into an OCI
// layout with credentials from ocicred after `ocicred setup docker` (regctl
// reads credHelpers from $DOCKER_CONFIG/config.json after a 401); every
// blob it wrote is checked against its digest.
func TestClientRegctl(t *testing.T) {
	t.Parallel()
	Need(t, needs(registryTools, []string{"regctl"})...)
	s := newClientScenario(t)
	s.RegctlPlainHTTP(t, s.reg.Host)
	s.assertWiredBySetup(t, wiring{
		client:   "docker",
		authFile: filepath.Join(s.DockerConfig, "config.json"),
		pull:     func(t *testing.T) (string, Result) { return s.RegctlPull(t, s.ref, s.image) },
		want:     s.digest,
	})
}
