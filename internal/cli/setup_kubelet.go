package cli

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/clientcfg"
	"github.com/ocicred/ocicred/internal/kubeletplugin"
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
  --image-credential-provider-config=` + kubeletplugin.DefaultProviderConfig + `
  --image-credential-provider-bin-dir=` + kubeletplugin.DefaultBinDir,
		Example: `  ocicred setup kubelet
  ocicred setup kubelet --config-file /etc/eks/image-credential-provider/config.json --bin-dir /etc/eks/image-credential-provider`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return g.setupKubelet(configFile, binDir, dryRun)
		},
	}
	cmd.Flags().StringVar(&configFile, "config-file", kubeletplugin.DefaultProviderConfig, "the CredentialProviderConfig to write")
	cmd.Flags().StringVar(&binDir, "bin-dir", kubeletplugin.DefaultBinDir, "the kubelet's credential provider plugin folder")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the config without writing anything")
	return cmd
}

func (g globals) setupKubelet(configFile, binDir string, dryRun bool) error {
	cfg, err := config.Read(g.configPath)
	if err != nil {
		return exitWith(ExitUsage, err)
	}
	configFile, err = clientcfg.FollowLinks(configFile)
	if err != nil {
		return exitWith(ExitFailure, err)
	}
	provider, left := kubeletplugin.Provider(cfg, g.configPath, g.socket)
	edit, err := kubeletplugin.SetProvider(configFile, provider)
	if err != nil {
		return exitWith(ExitFailure, err)
	}
	if dryRun {
		fmt.Fprintf(g.stdout, "--- %s would read:\n%s", configFile, edit.After)
		return nil
	}
	if err := edit.Write(); err != nil {
		return exitWith(ExitFailure, err)
	}
	fmt.Fprintf(g.stdout, "%s: provider %q matches %d registries\n", configFile, kubeletplugin.PluginName, len(provider["matchImages"].([]string)))
	for _, r := range left {
		fmt.Fprintf(g.stdout, "%s: left out: %s\n", r.Name, config.NodeWideNote)
	}
	link, err := kubeletplugin.LinkPlugin(binDir)
	if err != nil {
		return exitWith(ExitFailure, err)
	}
	fmt.Fprintf(g.stdout, "%s: links to %s\n", filepath.Join(binDir, kubeletplugin.PluginName), link)
	return nil
}
