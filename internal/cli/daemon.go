package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/ocicred/ocicred/daemon"
	"github.com/ocicred/ocicred/internal/tokencache"
)

func newDaemonCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "daemon",
		Short: "Run the daemon in the foreground (the systemd unit runs this)",
		Example: `  ocicred daemon --config /etc/ocicred/config.yaml
  ocicred daemon --config ./config.yaml --socket /tmp/ocicred.sock --log-level debug`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger()
			if err != nil {
				return err
			}
			stateDir, err := tokencache.Dir()
			if err != nil {
				log.Warn("no state folder: tokens will not survive a restart", "err", err)
			}
			d := daemon.New(daemon.Options{ConfigPath: g.configPath, Socket: g.socket, Logger: log, StateDir: stateDir})
			err = d.Run(cmd.Context())
			switch {
			case errors.Is(err, daemon.ErrConfig):
				return exitWith(ExitUsage, err)
			case err != nil:
				return exitWith(ExitFailure, err)
			}
			return nil
		},
	}
}
