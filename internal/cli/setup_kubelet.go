package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/renameio/v2"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/clientcfg"
	"github.com/ocicred/ocicred/internal/defaults"
	"github.com/ocicred/ocicred/internal/kubeletplugin"
)

// Defaults of setup kubelet: the files the kubelet's
// --image-credential-provider-config and --image-credential-provider-bin-dir
// flags name.
const (
	DefaultKubeletProviderConfig = "/etc/kubernetes/image-credential-provider-config.yaml"
	DefaultKubeletBinDir         = "/etc/kubernetes/image-credential-provider"
	kubeletPluginName            = "ocicred"
)

func newSetupKubeletCmd(g *globals) *cobra.Command {
	var configFile, binDir string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "kubelet",
		Short: "Write the kubelet's CredentialProviderConfig and put ocicred in its plugin folder",
		Long: `Write (or update) the CredentialProviderConfig the kubelet reads, with a provider
named ocicred whose matchImages lists every configured registry, and link the
ocicred binary into the kubelet's plugin folder. Other providers in the file
are kept. Start the kubelet with
  --image-credential-provider-config=` + DefaultKubeletProviderConfig + `
  --image-credential-provider-bin-dir=` + DefaultKubeletBinDir,
		Example: `  ocicred setup kubelet
  ocicred setup kubelet --config-file /etc/eks/image-credential-provider/config.json --bin-dir /etc/eks/image-credential-provider`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return g.setupKubelet(configFile, binDir, dryRun)
		},
	}
	cmd.Flags().StringVar(&configFile, "config-file", DefaultKubeletProviderConfig, "the CredentialProviderConfig to write")
	cmd.Flags().StringVar(&binDir, "bin-dir", DefaultKubeletBinDir, "the kubelet's credential provider plugin folder")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the config without writing anything")
	return cmd
}

func (g *globals) setupKubelet(configFile, binDir string, dryRun bool) error {
	cfg, err := config.Read(g.configPath)
	if err != nil {
		return exitWith(ExitUsage, err)
	}
	configFile, err = clientcfg.FollowLinks(configFile)
	if err != nil {
		return exitWith(ExitFailure, err)
	}
	doc, mode, isJSON, err := readProviderConfig(configFile)
	if err != nil {
		return exitWith(ExitFailure, err)
	}
	provider, left := g.kubeletProvider(cfg)
	setProvider(doc, provider)
	var out []byte
	if isJSON { // keep a JSON file JSON: tools edit it with jq
		out, err = json.MarshalIndent(doc, "", "  ")
		out = append(out, '\n')
	} else {
		out, err = yaml.Marshal(doc)
	}
	if err != nil {
		return err
	}
	if dryRun {
		fmt.Fprintf(g.stdout, "--- %s would read:\n%s", configFile, out)
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(configFile), 0o755); err != nil {
		return exitWith(ExitFailure, err)
	}
	if err := renameio.WriteFile(configFile, out, mode, renameio.WithTempDir(filepath.Dir(configFile))); err != nil {
		return exitWith(ExitFailure, err)
	}
	fmt.Fprintf(g.stdout, "%s: provider %q matches %d registries\n", configFile, kubeletPluginName, len(provider["matchImages"].([]string)))
	for _, r := range left {
		fmt.Fprintf(g.stdout, "%s: left out: %s\n", r.Name, config.NodeWideNote)
	}
	link, err := linkPlugin(binDir)
	if err != nil {
		return exitWith(ExitFailure, err)
	}
	fmt.Fprintf(g.stdout, "%s: links to %s\n", filepath.Join(binDir, kubeletPluginName), link)
	return nil
}

// kubeletProvider is ocicred's entry in the CredentialProviderConfig: it
// matches every registry with credentials that is for the whole node, and
// returns those left out because allow restricts them.
func (g *globals) kubeletProvider(cfg *config.Config) (provider map[string]any, left []*config.Registry) {
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
		"name":                 kubeletPluginName,
		"apiVersion":           kubeletplugin.APIVersionV1,
		"matchImages":          match,
		"defaultCacheDuration": kubeletplugin.StaticCacheDuration.String(),
		"args":                 []string{"kubelet-credential-provider"},
	}
	var env []map[string]string
	if g.configPath != config.DefaultPath {
		env = append(env, map[string]string{"name": defaults.EnvConfig, "value": g.configPath})
	}
	if g.socket != "" {
		env = append(env, map[string]string{"name": defaults.EnvSocket, "value": g.socket})
	}
	if env != nil {
		p["env"] = env
	}
	return p, left
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

// linkPlugin makes binDir/ocicred a symlink to this program.
func linkPlugin(binDir string) (string, error) {
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
	link := filepath.Join(binDir, kubeletPluginName)
	if fi, err := os.Lstat(link); err == nil && fi.Mode().Type() != fs.ModeSymlink {
		return "", fmt.Errorf("%s exists and is not a symlink; remove it or pass another --bin-dir", link)
	}
	if err := renameio.Symlink(self, link); err != nil {
		return "", err
	}
	return self, nil
}
