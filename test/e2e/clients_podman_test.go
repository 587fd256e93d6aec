package e2e

import (
	"path/filepath"
	"testing"
)

// TestClientPodman: podman (as root, vfs storage) pulls the image with
// credentials from ocicred after `ocicred setup podman` wrote the auth file
// that REGISTRY_AUTH_FILE names; then, with no REGISTRY_AUTH_FILE, the
// default one ($XDG_CONFIG_HOME/containers/auth.json).
func TestClientPodman(t *testing.T) {
	t.Parallel()
	Need(t, needs(registryTools, []string{"podman"})...)
	RequireRoot(t, "runs podman with its own storage")
	s := newClientScenario(t)
	// Keep the machine's registries.conf (credential-helpers, mirrors) out.
	conf := filepath.Join(s.Root, "registries.conf")
	writeFile(t, conf, "")
	s.SetVar("CONTAINERS_REGISTRIES_CONF", conf)
	pull := func(t *testing.T) (string, Result) { return s.PodmanPull(t, s.ref, s.image) }

	authFile := filepath.Join(s.Root, "containers-auth.json")
	WriteAuthFile(t, authFile, DockerConfig{}) // podman refuses a REGISTRY_AUTH_FILE that does not exist
	s.SetVar("REGISTRY_AUTH_FILE", authFile)
	s.assertWiredBySetup(t, wiring{client: "podman", authFile: authFile, pull: pull, want: s.digest})

	t.Run("default auth file", func(t *testing.T) {
		s.UnsetVar("REGISTRY_AUTH_FILE")
		d := StartDaemon(t, s.Env)
		mark := s.reg.Mark()
		if _, r := pull(t); !isRefused(r) {
			t.Errorf("podman pull with nothing in the default auth files: exit %d, want a 401/unauthorized failure", r.ExitCode)
		}
		s.reg.assertRefusedByRegistry(t, mark, "podman", "")
		s.Setup(t, "podman")
		s.assertCredHelper(t, filepath.Join(s.Home, ".config", "containers", "auth.json"))
		if digest, r := pull(t); r.Err != nil || digest != s.digest {
			t.Errorf("podman pull after `ocicred setup podman`: exit %d, digest %q, want %s", r.ExitCode, digest, s.digest)
		}
		d.Stop(t)
		assertNoSecret(t, "the daemon log", d.Log(), s.reg.Password)
	})
}
