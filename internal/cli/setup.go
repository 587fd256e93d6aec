package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/helper"
	"github.com/ocicred/ocicred/internal/clientcfg"
)

func newSetupCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "setup docker|podman|helm|kubelet|containerd",
		Short: "Wire a client to ocicred",
		Long: `Wire a client to ocicred. docker, podman and helm get a credHelpers entry per
registry in their auth file (atomic write, every other key kept, a one-time
.bak copy, --dry-run shows the change, --remove takes the entries out again).
kubelet gets a CredentialProviderConfig and the plugin binary; containerd gets
hosts.toml files kept by the daemon.`,
	}
	cmd.AddCommand(
		newSetupAuthFileCmd(g, "docker", "docker, nerdctl, crane, oras and regctl", clientcfg.DockerConfigPath,
			"  ocicred setup docker\n  DOCKER_CONFIG=/root/.docker ocicred setup docker --dry-run"),
		newSetupAuthFileCmd(g, "podman", "podman, skopeo, buildah and CRI-O", clientcfg.PodmanAuthPath,
			"  ocicred setup podman\n  ocicred setup podman --system"),
		newSetupAuthFileCmd(g, "helm", "helm", clientcfg.HelmRegistryPath, "  ocicred setup helm"),
		newSetupKubeletCmd(g),
		newSetupContainerdCmd(g),
	)
	return cmd
}

// authFileFlags are the flags of setup docker, podman and helm.
type authFileFlags struct {
	file                  string
	dryRun, remove, force bool
	system                bool
}

func newSetupAuthFileCmd(g *globals, client, who string, defaultPath func(system bool) (string, error), example string) *cobra.Command {
	var f authFileFlags
	cmd := &cobra.Command{
		Use:     client,
		Short:   "Route the configured registries through docker-credential-ocicred for " + who,
		Example: example,
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			path := f.file
			if path == "" {
				var err error
				if path, err = defaultPath(f.system); err != nil {
					return exitWith(ExitFailure, err)
				}
			}
			return g.setupAuthFile(client, path, f)
		},
	}
	cmd.Flags().StringVar(&f.file, "file", "", "the auth file to edit (default: the client's own)")
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "print the change without writing")
	cmd.Flags().BoolVar(&f.remove, "remove", false, "take ocicred's entries out again, putting back what --force replaced")
	cmd.Flags().BoolVar(&f.force, "force", false, "replace another credential helper's entry for a host (--remove puts it back)")
	if client == "podman" {
		cmd.Flags().BoolVar(&f.system, "system", false, "edit /etc/containers/auth.json, for every user and CRI-O")
	}
	return cmd
}

func (g globals) setupAuthFile(client, path string, f authFileFlags) error {
	if !f.remove {
		if err := helperSeesConfig(g.configPath, client); err != nil {
			return exitWith(ExitUsage, err)
		}
	}
	cfg, err := config.Read(g.configPath)
	if err != nil {
		return exitWith(ExitUsage, err)
	}
	hosts := clientcfg.Hosts(cfg, client)
	ch, err := clientcfg.Apply(path, hosts, clientcfg.Options{Remove: f.remove, DryRun: f.dryRun, Force: f.force})
	if err != nil {
		return exitWith(ExitFailure, err)
	}
	path = ch.Path // the target, when path is a symlink
	verb := map[bool]string{false: "added", true: "would add"}[f.dryRun]
	rverb := map[bool]string{false: "removed", true: "would remove"}[f.dryRun]
	switch {
	case len(hosts) == 0:
		fmt.Fprintf(g.stdout, "%s: no registry in %s has credentials; nothing to do\n", path, cfg.File)
	case !ch.Changed():
		fmt.Fprintf(g.stdout, "%s: already up to date\n", path)
	}
	for _, h := range ch.Added {
		if old, ok := ch.Replaced[h]; ok {
			fmt.Fprintf(g.stdout, "%s: %s credHelpers[%q] = %q in place of %q (kept in %s for --remove)\n", path, verb, h, clientcfg.Helper, old, clientcfg.ReplacedFile(path))
			continue
		}
		fmt.Fprintf(g.stdout, "%s: %s credHelpers[%q] = %q\n", path, verb, h, clientcfg.Helper)
	}
	for _, h := range ch.Removed {
		if old, ok := ch.Restored[h]; ok {
			fmt.Fprintf(g.stdout, "%s: %s credHelpers[%q], putting back %q\n", path, rverb, h, old)
			continue
		}
		fmt.Fprintf(g.stdout, "%s: %s credHelpers[%q]\n", path, rverb, h)
	}
	if f.dryRun && ch.Changed() {
		fmt.Fprintf(g.stdout, "--- the file would read:\n%s", ch.After)
	}
	if ch.Backup != "" {
		fmt.Fprintf(g.stdout, "%s: the original is kept in %s\n", path, ch.Backup)
	}
	if _, err := exec.LookPath("docker-credential-ocicred"); err != nil && !f.remove {
		fmt.Fprintf(g.stderr, "warning: docker-credential-ocicred is not on PATH; %s will not find the helper\n", client)
	}
	return nil
}

// helperSeesConfig refuses to wire client to a config file that the
// helper will not read. Clients run docker-credential-ocicred with nothing
// but their own environment, so it reads OCICRED_CONFIG or the default
// path (helper.ConfigPath); a --config that names another file would give
// the client no credentials whenever the daemon does not answer for it.
func helperSeesConfig(configPath, client string) error {
	want := helper.ConfigPath()
	if samePath(configPath, want) {
		return nil
	}
	return fmt.Errorf("%s runs docker-credential-ocicred, which reads %s (OCICRED_CONFIG, else %s), not %s, so %s would get no credentials from it: "+
		"move the config to %s, or set OCICRED_CONFIG=%s in the environment %s runs in and run setup with that variable instead of --config",
		client, want, helper.DefaultConfigPath, configPath, client, helper.DefaultConfigPath, configPath, client)
}

// samePath reports whether a and b name the same file: equal once made
// absolute and clean, or the same inode.
func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	if err1 == nil && err2 == nil && aa == bb {
		return true
	}
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}
