package kubeletplugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/renameio/v2"
	"go.yaml.in/yaml/v3"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/defaults"
)

// The files the kubelet's --image-credential-provider-config and
// --image-credential-provider-bin-dir flags name by default, and the name
// of ocicred's provider in them (the name of the plugin's binary).
const (
	DefaultProviderConfig = "/etc/kubernetes/image-credential-provider-config.yaml"
	DefaultBinDir         = "/etc/kubernetes/image-credential-provider"
	PluginName            = "ocicred"
)

// Provider is ocicred's entry in the kubelet's CredentialProviderConfig
// (kubelet.config.k8s.io/v1): it matches every registry of cfg with
// credentials that is for the whole node, and runs `ocicred
// kubelet-credential-provider` with OCICRED_CONFIG and OCICRED_SOCKET set
// when configPath is not config.DefaultPath or socket is not empty. left
// are the registries that allow restricts (config.NodeWideNote).
func Provider(cfg *config.Config, configPath, socket string) (provider map[string]any, left []*config.Registry) {
	match := []string{}
	for _, r := range cfg.Registries {
		switch {
		case r.Type != config.TypeBasic && !r.IsProtected():
		case r.ForNode():
			match = append(match, r.Host)
		default:
			left = append(left, r)
		}
	}
	p := map[string]any{
		"name":                 PluginName,
		"apiVersion":           APIVersionV1,
		"matchImages":          match,
		"defaultCacheDuration": StaticCacheDuration.String(),
		"args":                 []string{"kubelet-credential-provider"},
	}
	var env []map[string]string
	if configPath != config.DefaultPath {
		env = append(env, map[string]string{"name": defaults.EnvConfig, "value": configPath})
	}
	if socket != "" {
		env = append(env, map[string]string{"name": defaults.EnvSocket, "value": socket})
	}
	if env != nil {
		p["env"] = env
	}
	return p, left
}

// ProviderConfig is a CredentialProviderConfig file with ocicred's
// provider set in it, ready to write.
type ProviderConfig struct {
	Path  string      // the file
	After []byte      // what it is to hold
	Mode  fs.FileMode // its mode now, kept (0644 for a new file)
}

// SetProvider reads the CredentialProviderConfig at path (YAML or JSON),
// or starts a new one, and replaces the provider of provider's name in it,
// or appends it; other providers are kept. A JSON file (starting with
// "{", or a new file named *.json) stays JSON, since tools edit it with
// jq. The error says when the file is neither YAML nor JSON.
func SetProvider(path string, provider map[string]any) (ProviderConfig, error) {
	doc, mode, isJSON, err := readProviderConfig(path)
	if err != nil {
		return ProviderConfig{}, err
	}
	setProvider(doc, provider)
	var out []byte
	if isJSON {
		out, err = json.MarshalIndent(doc, "", "  ")
		out = append(out, '\n')
	} else {
		out, err = yaml.Marshal(doc)
	}
	if err != nil {
		return ProviderConfig{}, err
	}
	return ProviderConfig{Path: path, After: out, Mode: mode}, nil
}

// Write replaces the file atomically with p.After, keeping its mode, and
// creates its folder (0755) when missing.
func (p ProviderConfig) Write() error {
	if err := os.MkdirAll(filepath.Dir(p.Path), 0o755); err != nil {
		return err
	}
	return renameio.WriteFile(p.Path, p.After, p.Mode, renameio.WithTempDir(filepath.Dir(p.Path)))
}

// readProviderConfig reads an existing CredentialProviderConfig, or starts
// a new one, and says whether it is JSON (the file starts with "{", or a
// new file is named *.json), so that it is written back as it was.
func readProviderConfig(path string) (doc map[string]any, mode fs.FileMode, isJSON bool, err error) {
	doc = map[string]any{"apiVersion": "kubelet.config.k8s.io/v1", "kind": "CredentialProviderConfig", "providers": []any{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return doc, 0o644, strings.EqualFold(filepath.Ext(path), ".json"), nil
	}
	if err != nil {
		return nil, 0, false, err
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, 0, false, fmt.Errorf("%s is not YAML or JSON: %w; fix or move it first", path, err)
	}
	mode = fs.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	return doc, mode, strings.HasPrefix(strings.TrimSpace(string(data)), "{"), nil
}

// setProvider replaces the provider of the same name, or appends it.
func setProvider(doc map[string]any, p map[string]any) {
	providers, _ := doc["providers"].([]any)
	for i, old := range providers {
		if m, ok := old.(map[string]any); ok && m["name"] == p["name"] {
			providers[i] = p
			doc["providers"] = providers
			return
		}
	}
	doc["providers"] = append(providers, p)
}

// LinkPlugin makes binDir/PluginName a symbolic link to this program
// (os.Executable, its links resolved), creating binDir (0755), and returns
// what it links to. It refuses to replace a file that is not a link.
func LinkPlugin(binDir string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(self); err == nil {
		self = real
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return "", err
	}
	link := filepath.Join(binDir, PluginName)
	if fi, err := os.Lstat(link); err == nil && fi.Mode().Type() != fs.ModeSymlink {
		return "", fmt.Errorf("%s exists and is not a symlink; remove it or pass another --bin-dir", link)
	}
	if err := renameio.Symlink(self, link); err != nil {
		return "", err
	}
	return self, nil
}
