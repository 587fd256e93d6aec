package clientcfg

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ocicred/ocicred/config"
)

// Hosts are the credHelpers keys of cfg's registries with credentials,
// spelled the way client ("docker", "podman" or "helm") looks them up:
// Docker Hub is "https://index.docker.io/v1/" for all but podman.
func Hosts(cfg *config.Config, client string) []string {
	var out []string
	for _, r := range cfg.Registries {
		if r.Type == config.TypeECR && !r.IsProtected() {
			continue
		}
		h := r.Host
		if h == "docker.io" && client != "podman" {
			h = "https://index.docker.io/v1/" // docker's key for Docker Hub
		}
		out = append(out, h)
	}
	return out
}

func home() (string, error) {
	h, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home folder (%w); pass --file", err)
	}
	return h, nil
}

// DockerConfigPath is $DOCKER_CONFIG/config.json or ~/.docker/config.json
// (docker has no system-wide file: the argument is ignored). The error
// says there is no home folder.
func DockerConfigPath(bool) (string, error) {
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return filepath.Join(d, "config.json"), nil
	}
	h, err := home()
	return filepath.Join(h, ".docker", "config.json"), err
}

// PodmanAuthPath is /etc/containers/auth.json when system, else
// $REGISTRY_AUTH_FILE, else $XDG_CONFIG_HOME/containers/auth.json
// (~/.config by default: it survives reboots, unlike the copy under
// XDG_RUNTIME_DIR). The error says there is no home folder.
func PodmanAuthPath(system bool) (string, error) {
	switch {
	case system:
		return "/etc/containers/auth.json", nil
	case os.Getenv("REGISTRY_AUTH_FILE") != "":
		return os.Getenv("REGISTRY_AUTH_FILE"), nil
	}
	base := os.Getenv("XDG_CONFIG_HOME")
	if base == "" {
		h, err := home()
		if err != nil {
			return "", err
		}
		base = filepath.Join(h, ".config")
	}
	return filepath.Join(base, "containers", "auth.json"), nil
}

// HelmRegistryPath is $HELM_REGISTRY_CONFIG, else helm's default
// $XDG_CONFIG_HOME/helm/registry/config.json (the argument is ignored).
// The error says there is no home folder.
func HelmRegistryPath(bool) (string, error) {
	if p := os.Getenv("HELM_REGISTRY_CONFIG"); p != "" {
		return p, nil
	}
	base := os.Getenv("XDG_CONFIG_HOME")
	if base == "" {
		h, err := home()
		if err != nil {
			return "", err
		}
		base = filepath.Join(h, ".config")
	}
	return filepath.Join(base, "helm", "registry", "config.json"), nil
}
