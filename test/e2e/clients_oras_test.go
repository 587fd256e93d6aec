package e2e

import (
	"path/filepath"
	"testing"
)

// TestClientOras: oras pulls an artifact (pushed with the registry's own
// credentials) with credentials from ocicred after `ocicred setup docker`:
// oras reads credHelpers from $DOCKER_CONFIG/config.json. The file it
// wrote must have the pushed layer's digest.
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
				// The artifact's one layer is hello.txt: what oras wrote
				// must hash to the layer it pushed.
				if got := ReadFile(t, filepath.Join(out, "hello.txt")); DigestOf([]byte(got)) != DigestOf([]byte(content)) {
					t.Errorf("oras wrote hello.txt of digest %s, pushed %s", DigestOf([]byte(got)), DigestOf([]byte(content)))
				}
			}
			return digest, r
		},
		want: want,
	})
}
