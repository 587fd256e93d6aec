package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ocicred/ocicred/internal/buildinfo"
)

func newVersionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version and commit",
		Example: "  ocicred version",
		Args:    cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Fprintf(g.stdout, "ocicred %s (commit %s)\n", buildinfo.Version, buildinfo.Commit)
		},
	}
}
