package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/docker/docker-credential-helpers/credentials"
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
	cmd.Flags().BoolVar(&g.quiet, "quiet", false, "print on stderr only what needs fixing, not where the answer came from (the helper's fallback)")
	_ = cmd.Flags().MarkHidden("quiet")
	cmd.Flags().StringVar(&g.skipSocket, "skip-socket", "", "a daemon socket that accepted but did not answer: do not ask it again (the helper's fallback)")
	_ = cmd.Flags().MarkHidden("skip-socket")
	return cmd
}

func (g *globals) get(ctx context.Context, host string, noDaemon bool) error {
	res, err := g.resolve(ctx, host, noDaemon)
	if res.reason != "" && !g.quiet {
		fmt.Fprintln(g.stderr, res.reason)
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
	return json.NewEncoder(g.stdout).Encode(getAnswer{ServerURL: host, Username: res.user, Secret: res.secret})
}

// resolution is an answer and why it is so.
type resolution struct {
	user, secret string
	expiresAt    time.Time // zero for Basic credentials
	reason       string    // for stderr
}

// resolve answers like the helper: from the daemon, else (or with
// noDaemon) from the config file. The error is creds.ErrNotFound, or one
// line naming the registry and what is wrong.
func (g *globals) resolve(ctx context.Context, host string, noDaemon bool) (resolution, error) {
	if _, err := config.HostKey(host); err != nil {
		return resolution{}, err
	}
	if noDaemon {
		return g.resolveLocal(ctx, host, "")
	}
	sock := g.socketPath()
	if sock == g.skipSocket {
		return g.resolveLocal(ctx, host, fmt.Sprintf("the daemon at %s gave no answer; answered from %s", sock, g.configPath))
	}
	client := localapi.NewClient(sock)
	client.Name = g.clientName
	client.Deadline = localapi.DaemonDeadline
	got, err := client.Credentials(ctx, host)
	switch {
	case err == nil:
		return resolution{user: got.Username, secret: got.Secret, expiresAt: got.ExpiresAt,
			reason: "registry " + got.Registry + ": credentials from the daemon"}, nil
	case errors.Is(err, localapi.ErrNotFound): // the wire's not_found, back to the domain's
		var nf *localapi.NotFoundError
		if errors.As(err, &nf) {
			return resolution{reason: "the daemon: " + nf.Reason}, creds.ErrNotFound
		}
		return resolution{reason: host + " is not managed by ocicred, is an unprotected registry, or is not allowed for this user"}, creds.ErrNotFound
	case errors.Is(err, localapi.ErrUnreachable):
		return g.resolveLocal(ctx, host, fmt.Sprintf("%v at %s; answered from %s", err, sock, g.configPath))
	}
	return resolution{}, err
}

// localTimeout bounds the daemon-less answer's AWS work, so that a helper
// call (a second at most to find the daemon gone, then this) ends within
// 5 s, the contract's bound (spec, "Operating it").
const localTimeout = 4 * time.Second

// resolveLocal answers without the daemon, from what this user can read.
func (g *globals) resolveLocal(ctx context.Context, host, why string) (resolution, error) {
	prefix := ""
	if why != "" {
		prefix = why + ": "
	}
	cfg, err := config.Read(g.configPath)
	if err != nil {
		return resolution{reason: prefix + "cannot read the config, so nothing is managed for this user: " + err.Error()}, creds.ErrNotFound
	}
	reg, err := creds.Match(cfg, access.Self(), host)
	switch {
	case err != nil:
		return resolution{reason: prefix + creds.NotFoundReason(cfg, reg, err, host)}, err
	case g.clientName == localapi.ClientKubelet && !reg.ForNode():
		return resolution{reason: fmt.Sprintf("%sregistry %s: %s", prefix, reg.Name, config.NodeWideNote)}, creds.ErrNotFound
	}
	if err := reg.ResolveSecrets(config.OS); err != nil {
		return resolution{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, localTimeout)
	defer cancel()
	got, err := creds.Get(ctx, reg, g.localTokens(), time.Now())
	if err != nil {
		return resolution{}, err
	}
	return resolution{user: got.Username, secret: got.Secret.Reveal(), expiresAt: got.ExpiresAt,
		reason: prefix + "registry " + reg.Name + ": credentials worked out without the daemon"}, nil
}
