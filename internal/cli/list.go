package cli

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/access"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/localapi"
)

// newListCmd is the helper's `list` when the daemon is down: what this
// user may have, from the daemon on the config's socket or from the file.
// No network call. Hidden: users run docker-credential-ocicred list.
func newListCmd(g *globals) *cobra.Command {
	var fb fallbackFlags
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "Print the managed endpoints and user names as the helper's list does",
		Hidden:  true,
		Example: "  ocicred list",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out map[string]string
			err := fmt.Errorf("%w: skipped", localapi.ErrUnreachable)
			if sock := g.socketPath(); sock != fb.skipSocket {
				client := localapi.NewClient(sock)
				client.Name = localapi.ClientCLI
				client.Deadline = localapi.DaemonDeadline
				out, err = client.List(cmd.Context())
			}
			if errors.Is(err, localapi.ErrUnreachable) {
				var cfg *config.Config
				if cfg, err = config.Read(g.configPath); err == nil {
					out = creds.List(cfg, access.Self())
				}
			}
			if err != nil {
				// The reason on stdout, as get does: the helper passes
				// the first line on to its caller.
				fmt.Fprintln(g.stdout, err)
				return exitWith(ExitFailure, nil)
			}
			return json.NewEncoder(g.stdout).Encode(out)
		},
	}
	fb.add(cmd, "print on stderr only what needs fixing (the helper's fallback)")
	return cmd
}
