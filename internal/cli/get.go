package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/docker/docker-credential-helpers/credentials"
	"github.com/spf13/cobra"

	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/localapi"
	"github.com/ocicred/ocicred/internal/resolve"
)

// getAnswer is what `ocicred get` prints on stdout: the helper protocol's
// credentials object.
type getAnswer struct {
	ServerURL string
	Username  string
	Secret    string
}

// fallbackFlags are the hidden flags the helper's fallback passes to get
// and list.
type fallbackFlags struct {
	quiet      bool   // say on stderr only what the user must fix
	skipSocket string // a socket the helper found silent: not asked again
}

// add declares the flags on cmd; what says what quiet leaves out.
func (f *fallbackFlags) add(cmd *cobra.Command, what string) {
	cmd.Flags().BoolVar(&f.quiet, "quiet", false, what)
	_ = cmd.Flags().MarkHidden("quiet")
	cmd.Flags().StringVar(&f.skipSocket, "skip-socket", "", "a daemon socket that accepted but did not answer: do not ask it again (the helper's fallback)")
	_ = cmd.Flags().MarkHidden("skip-socket")
}

func newGetCmd(g *globals) *cobra.Command {
	var noDaemon bool
	var fb fallbackFlags
	cmd := &cobra.Command{
		Use:   "get HOST",
		Short: "Print what the credential helper would answer for HOST, with the reason on stderr",
		Long: `Print what docker-credential-ocicred would answer for HOST: the credentials
JSON (exit 0), "credentials not found in native keychain" (exit 1), or one
line naming the registry and why it has no usable credentials (exit 1).
The reason goes to stderr. Without a reachable daemon, the answer is worked
out from the config file with this user's rights.`,
		Example: `  ocicred get 123456789012.dkr.ecr.us-west-2.amazonaws.com
  ocicred get --no-daemon harbor.example.com:8443`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.get(cmd.Context(), args[0], noDaemon, fb)
		},
	}
	cmd.Flags().BoolVar(&noDaemon, "no-daemon", false, "answer from the config file without asking the daemon (the helper's fallback)")
	fb.add(cmd, "print on stderr only what needs fixing, not where the answer came from (the helper's fallback)")
	return cmd
}

func (g globals) get(ctx context.Context, host string, noDaemon bool, fb fallbackFlags) error {
	res, err := resolve.Resolve(ctx, g.resolveOptions(localapi.ClientCLI, fb, noDaemon), host, noDaemon)
	if res.Reason != "" && !fb.quiet {
		fmt.Fprintln(g.stderr, res.Reason)
	}
	switch {
	case errors.Is(err, creds.ErrNotFound):
		// Exactly docker's text, refusals included: clients then go on
		// anonymously instead of failing the pull.
		fmt.Fprintln(g.stdout, credentials.NewErrCredentialsNotFound())
		return exitWith(ExitFailure, nil)
	case err != nil:
		fmt.Fprintln(g.stdout, err)
		return exitWith(ExitFailure, nil)
	}
	return json.NewEncoder(g.stdout).Encode(getAnswer{ServerURL: host, Username: res.User, Secret: res.Secret})
}

// resolveOptions are the resolver's options for a caller the daemon counts
// as client (localapi.Client*), from the flags; the daemon's socket is
// worked out only when the daemon is to be asked.
func (g globals) resolveOptions(client string, fb fallbackFlags, noDaemon bool) resolve.Options {
	opts := resolve.Options{ConfigPath: g.configPath, SkipSocket: fb.skipSocket, ClientName: client, Quiet: fb.quiet, Stderr: g.stderr}
	if !noDaemon {
		opts.Socket = g.socketPath()
	}
	return opts
}
