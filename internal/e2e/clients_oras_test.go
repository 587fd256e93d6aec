package e2e

import (
	"path/filepath"
	"testing"
)

// TestClientOras: oras pulls an artifact (pushed with the registry's own
// credentials) with credentials from ocicred after `ocicred setup docker`:
// oras reads credHelpers from $DOCKER_CONFIG/config.json.
func TestClientOras(t *testing.T) {
	t.Parallel()
	Need(t, needs(registryTools, []string{"oras"})...)
	s := newClientScenario(t)
	ref := s.reg.Host + "/demo/artifact:v1"
	const content = "hello from oras\n"
	want := s.OrasPush(t, ref, s.reg.User, s.reg.Password, "hello.txt", content)
	s.assertWiredBySetup(t, wiring{
		client:   "docker",
		authFile: filepath.Join(s.DockerConfig, "config.json"),
		pull: func(t *testing.T) (string, Result) {
			out := t.TempDir()
			digest, r := s.OrasPull(t, ref, out)
			if r.Err == nil {
				if got := ReadFile(t, filepath.Join(out, "hello.txt")); got != content {
					t.Errorf("oras pulled hello.txt %q, pushed %q", got, content)
				}
			}
			return digest, r
		},
		want: want,
	})
}
