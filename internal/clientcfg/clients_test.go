package clientcfg

import (
	"strings"
	"testing"

	"github.com/ocicred/ocicred/config"
)

// Docker Hub is keyed as docker and helm look it up, not as podman does;
// an unprotected ECR registry gets no entry.
func TestHosts(t *testing.T) {
	cfg, err := config.Parse([]byte(`registries:
  - {name: hub, type: basic, endpoint: docker.io, username: u, password: pw}
  - {name: corp, type: basic, endpoint: corp.example:8443, username: u, password: pw}
  - {name: gallery, type: ecr, endpoint: public.ecr.aws, protected: false}
`), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for client, want := range map[string]string{
		"docker": "https://index.docker.io/v1/ corp.example:8443",
		"helm":   "https://index.docker.io/v1/ corp.example:8443",
		"podman": "docker.io corp.example:8443",
	} {
		if got := strings.Join(Hosts(cfg, client), " "); got != want {
			t.Errorf("%s: %s, want %s", client, got, want)
		}
	}
}

// Each client's file: its environment variable first, then its default.
func TestClientPaths(t *testing.T) {
	t.Setenv("HOME", "/home/u")
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("DOCKER_CONFIG", "")
	t.Setenv("REGISTRY_AUTH_FILE", "")
	t.Setenv("HELM_REGISTRY_CONFIG", "")
	check := func(what string, f func(bool) (string, error), system bool, want string) {
		t.Helper()
		if got, err := f(system); err != nil || got != want {
			t.Errorf("%s: %s (%v), want %s", what, got, err, want)
		}
	}
	check("docker", DockerConfigPath, false, "/home/u/.docker/config.json")
	check("podman", PodmanAuthPath, false, "/home/u/.config/containers/auth.json")
	check("podman --system", PodmanAuthPath, true, "/etc/containers/auth.json")
	check("helm", HelmRegistryPath, false, "/home/u/.config/helm/registry/config.json")
	t.Setenv("XDG_CONFIG_HOME", "/xdg")
	check("podman, XDG_CONFIG_HOME", PodmanAuthPath, false, "/xdg/containers/auth.json")
	check("helm, XDG_CONFIG_HOME", HelmRegistryPath, false, "/xdg/helm/registry/config.json")
	t.Setenv("DOCKER_CONFIG", "/d")
	t.Setenv("REGISTRY_AUTH_FILE", "/r/auth.json")
	t.Setenv("HELM_REGISTRY_CONFIG", "/h/config.json")
	check("DOCKER_CONFIG", DockerConfigPath, false, "/d/config.json")
	check("REGISTRY_AUTH_FILE", PodmanAuthPath, false, "/r/auth.json")
	check("podman --system over REGISTRY_AUTH_FILE", PodmanAuthPath, true, "/etc/containers/auth.json")
	check("HELM_REGISTRY_CONFIG", HelmRegistryPath, false, "/h/config.json")
}
