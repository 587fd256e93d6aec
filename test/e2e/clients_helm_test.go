package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

// TestClientHelm: helm pulls a chart from oci:// with credentials from
// ocicred after `ocicred setup helm` wrote helm's registry config: first the
// file HELM_REGISTRY_CONFIG names, then helm's default
// ($XDG_CONFIG_HOME/helm/registry/config.json). The docker config, which
// helm also reads, stays empty. The chart helm wrote must have the pushed
// archive's digest.
func TestClientHelm(t *testing.T) {
	t.Parallel()
	Need(t, needs(registryTools, []string{"helm"})...)
	s := newClientScenario(t)
	const chart, version = "hello", "0.1.0"
	repo := "oci://" + s.reg.Host + "/charts"
	want, chartDigest := s.HelmPushChart(t, WriteChart(t, chart, version), repo, s.reg.User, s.reg.Password)
	pull := func(t *testing.T) (string, Result) {
		out := t.TempDir()
		digest, r := s.HelmPull(t, repo+"/"+chart, version, out)
		if r.Err == nil {
			data, err := os.ReadFile(filepath.Join(out, chart+"-"+version+".tgz"))
			switch {
			case err != nil:
				t.Errorf("helm pull exited 0 but wrote no chart: %v", err)
			case DigestOf(data) != chartDigest:
				t.Errorf("helm wrote a chart of digest %s, pushed %s", DigestOf(data), chartDigest)
			}
		}
		return digest, r
	}

	custom := filepath.Join(s.Root, "helm-registry.json")
	s.SetVar("HELM_REGISTRY_CONFIG", custom)
	s.assertWiredBySetup(t, wiring{client: "helm", authFile: custom, pull: pull, want: want})

	t.Run("default registry config", func(t *testing.T) {
		s.UnsetVar("HELM_REGISTRY_CONFIG")
		d := StartDaemon(t, s.Env)
		mark := s.reg.Mark()
		if _, r := pull(t); !isRefused(r) {
			t.Errorf("helm pull with nothing in the default registry config: exit %d, want a 401/unauthorized failure", r.ExitCode)
		}
		s.reg.assertRefusedByRegistry(t, mark, "helm", "")
		s.Setup(t, "helm")
		s.assertCredHelper(t, filepath.Join(s.Home, ".config", "helm", "registry", "config.json"))
		digest, r := pull(t)
		if r.Err != nil || digest != want {
			t.Errorf("helm pull after `ocicred setup helm`: exit %d, digest %q, want %s", r.ExitCode, digest, want)
		}
		d.Stop(t)
		assertNoSecret(t, "the daemon log", d.Log(), s.reg.Password)
	})
}
