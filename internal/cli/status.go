package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/localapi"
)

func newStatusCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the daemon's config, config error, and each registry's state",
		Example: `  ocicred status
  ocicred status --json | jq '.registries[] | select(.state != "ready")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sock := g.socketPath()
			st, err := localapi.NewClient(sock).Status(cmd.Context())
			if err != nil {
				err = fmt.Errorf("%w (socket %s); is the daemon running? try: ocicred service status", err, sock)
				if _, cerr := config.Read(g.configPath); cerr != nil {
					err = fmt.Errorf("%w; %s does not validate either: %v", err, g.configPath, cerr)
				}
				return exitWith(ExitFailure, err)
			}
			if asJSON {
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			printStatus(*g, st)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

func printStatus(g globals, st *localapi.Status) {
	fmt.Fprintf(g.stdout, "config:       %s\n", st.Config)
	if st.ConfigError != "" {
		fmt.Fprintf(g.stdout, "config error: %s\n", st.ConfigError)
	} else {
		fmt.Fprintln(g.stdout, "config error: none")
	}
	fmt.Fprintln(g.stdout)
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tENDPOINT\tSTATE\tEXPIRES\tREFRESHED\tNEXT REFRESH\tLAST ERROR")
	for _, r := range st.Registries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Type, r.Endpoint, r.State,
			dash(r.ExpiresAt), dash(r.RefreshedAt), dash(r.NextRefreshAt), dash(r.LastError))
	}
	tw.Flush()
	for _, r := range st.Registries {
		if r.Note != "" {
			fmt.Fprintf(g.stdout, "\n%s: %s\n", r.Name, r.Note)
		}
		if r.ClockSkewSeconds != 0 {
			fmt.Fprintf(g.stdout, "\n%s: the token issuer's clock is %+ds from this node's; tokens are scheduled from their own lifetime, measured here\n", r.Name, r.ClockSkewSeconds)
		}
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
