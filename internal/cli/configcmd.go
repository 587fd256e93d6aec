package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ocicred/ocicred/config"
)

func newConfigCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Work with the config file"}
	cmd.AddCommand(&cobra.Command{
		Use:   "validate [FILE]",
		Short: "Parse and validate a config file; print every error",
		Long: `Parse and validate a config file the way the daemon would (secrets from files
and environment variables included) and print every error with its
file:line:column and field. Exit 0 when valid, 2 when not.`,
		Example: `  ocicred config validate
  ocicred config validate ./new-config.yaml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			path := g.configPath
			if len(args) == 1 {
				path = args[0]
			}
			return g.validate(path)
		},
	})
	return cmd
}

func (g globals) validate(path string) error {
	cfg, err := config.Load(path) // the daemon's own checks, all at once
	if err != nil {
		var es config.Errors
		if errors.As(err, &es) {
			for _, e := range es {
				fmt.Fprintln(g.stdout, e)
			}
			return exitWith(ExitUsage, fmt.Errorf("%s: %d error(s)", path, len(es)))
		}
		fmt.Fprintln(g.stdout, err)
		return exitWith(ExitUsage, nil)
	}
	fmt.Fprintf(g.stdout, "%s: valid, %d registries\n", path, len(cfg.Registries))
	for i, r := range cfg.Registries {
		if (r.Type == config.TypeBasic || r.IsProtected()) && !r.ForNode() {
			fmt.Fprintf(g.stdout, "%s: registries[%d] (%s): note: %s\n", path, i, r.Name, config.NodeWideNote)
		}
		if r.IsProtected() && !r.ForHostsTOML() && cfg.Containerd != nil && cfg.Containerd.HostsDir != "" {
			fmt.Fprintf(g.stdout, "%s: registries[%d] (%s): note: %s\n", path, i, r.Name, config.HostsTOMLNote)
		}
	}
	return nil
}
