package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/access"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/localapi"
)

// getAnswer is what `ocicred get` prints on stdout: the helper protocol's
// credentials object.
type getAnswer struct {
	ServerURL string
	Username  string
	Secret    string
}

func newGetCmd(g *globals) *cobra.Command {
	var noDaemon bool
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
			return g.get(cmd.Context(), args[0], noDaemon)
		},
	}
	cmd.Flags().BoolVar(&noDaemon, "no-daemon", false, "answer from the config file without asking the daemon (the helper's fallback)")
	return cmd
}

func (g *globals) get(ctx context.Context, host string, noDaemon bool) error {
	if _, err := config.HostKey(host); err != nil {
		fmt.Fprintln(g.stdout, err)
		return exitWith(ExitFailure, nil)
	}
	if !noDaemon {
		sock := g.socketPath()
		got, err := localapi.NewClient(sock).Credentials(ctx, host)
		switch {
		case err == nil:
			fmt.Fprintf(g.stderr, "registry %s: credentials from the daemon\n", got.Registry)
			return g.printCredentials(host, got.Username, got.Secret)
		case errors.Is(err, creds.ErrNotFound):
			fmt.Fprintf(g.stderr, "%s is not managed by ocicred, is an unprotected registry, or is not allowed for this user\n", host)
			fmt.Fprintln(g.stdout, creds.NotFoundMessage)
			return exitWith(ExitFailure, nil)
		case !errors.Is(err, localapi.ErrUnreachable):
			fmt.Fprintln(g.stdout, err)
			return exitWith(ExitFailure, nil)
		}
		fmt.Fprintf(g.stderr, "%v at %s; answering from %s\n", err, sock, g.configPath)
	}
	return g.getLocal(ctx, host)
}

// getLocal answers without the daemon, from what this user can read.
func (g *globals) getLocal(ctx context.Context, host string) error {
	cfg, err := config.Read(g.configPath)
	if err != nil {
		fmt.Fprintf(g.stderr, "cannot read the config, so nothing is managed for this user: %v\n", err)
		fmt.Fprintln(g.stdout, creds.NotFoundMessage)
		return exitWith(ExitFailure, nil)
	}
	reg, err := creds.Match(cfg, access.Self(), host)
	if err != nil {
		switch {
		case errors.Is(err, creds.ErrRefused):
			fmt.Fprintf(g.stderr, "registry %s does not allow this user (allow: %v)\n", reg.Name, reg.Allow)
		case reg != nil:
			fmt.Fprintf(g.stderr, "registry %s is unprotected: clients pull anonymously\n", reg.Name)
		default:
			fmt.Fprintf(g.stderr, "no registry in %s has the endpoint %s\n", cfg.File, host)
		}
		fmt.Fprintln(g.stdout, creds.NotFoundMessage)
		return exitWith(ExitFailure, nil)
	}
	if err := reg.ResolveSecrets(config.OS); err != nil {
		fmt.Fprintln(g.stdout, err)
		return exitWith(ExitFailure, nil)
	}
	ctx, cancel := context.WithTimeout(ctx, 25*time.Second)
	defer cancel()
	got, err := creds.Get(ctx, reg, g.localTokens(), time.Now())
	if err != nil {
		fmt.Fprintln(g.stdout, err)
		return exitWith(ExitFailure, nil)
	}
	fmt.Fprintf(g.stderr, "registry %s: credentials worked out without the daemon\n", reg.Name)
	return g.printCredentials(host, got.Username, got.Secret.Reveal())
}

// localTokens is the ECR token source of the daemon-less path.
func (g *globals) localTokens() creds.Tokens { return nil }

func (g *globals) printCredentials(host, user, secret string) error {
	return json.NewEncoder(g.stdout).Encode(getAnswer{ServerURL: host, Username: user, Secret: secret})
}
