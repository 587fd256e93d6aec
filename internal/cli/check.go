package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/localapi"
	"github.com/ocicred/ocicred/internal/regcheck"
	"github.com/ocicred/ocicred/internal/resolve"
)

func newCheckCmd(g *globals) *cobra.Command {
	var noDaemon bool
	cmd := &cobra.Command{
		Use:   "check [NAME...]",
		Short: "Prove each registry works end to end: get credentials, then call its /v2/ with them",
		Long: `For each registry (all, or those named), get its credentials the way the helper
does (from the daemon, else from the config), then call the registry's /v2/
with them, following Basic and Bearer challenges. One line per registry says
what worked or what failed: AWS refusing the role or the token, a secret that
cannot be read, or a registry that rejects the credentials. Exit 1 if any
failed.`,
		Example: `  ocicred check
  ocicred check prod harbor`,
		RunE: func(cmd *cobra.Command, names []string) error {
			return g.check(cmd.Context(), names, noDaemon)
		},
	}
	cmd.Flags().BoolVar(&noDaemon, "no-daemon", false, "get credentials from the config file, not the daemon")
	return cmd
}

func (g globals) check(ctx context.Context, names []string, noDaemon bool) error {
	cfg, err := config.Read(g.configPath)
	if err != nil {
		return exitWith(ExitUsage, err)
	}
	regs := cfg.Registries
	if len(names) > 0 {
		regs = nil
		for _, n := range names {
			r, ok := cfg.Registry(n)
			if !ok {
				return exitWith(ExitUsage, fmt.Errorf("no registry named %q in %s", n, cfg.File))
			}
			regs = append(regs, r)
		}
	}
	failed := 0
	for _, r := range regs {
		what, err := g.checkOne(ctx, r, noDaemon)
		if err != nil {
			failed++
			fmt.Fprintf(g.stdout, "%s: FAILED: %v\n", r.Name, err)
			continue
		}
		fmt.Fprintf(g.stdout, "%s: ok: %s\n", r.Name, what)
	}
	if failed > 0 {
		return exitWith(ExitFailure, fmt.Errorf("%d of %d registries failed", failed, len(regs)))
	}
	return nil
}

// checkOne gets r's credentials and tries them on its /v2/.
func (g globals) checkOne(ctx context.Context, r *config.Registry, noDaemon bool) (string, error) {
	if r.Type == config.TypeECR && !r.IsProtected() {
		if err := regcheck.Check(ctx, r, "", ""); err != nil {
			return "", fmt.Errorf("anonymous /v2/: %w", err)
		}
		return "anonymous access to " + r.ServerURL() + "/v2/ works", nil
	}
	res, err := resolve.Resolve(ctx, g.resolveOptions(localapi.ClientCLI, fallbackFlags{}, noDaemon), r.Host, noDaemon)
	switch {
	case errors.Is(err, creds.ErrNotFound):
		return "", fmt.Errorf("no credentials for this user: %s", res.Reason)
	case err != nil:
		return "", fmt.Errorf("credentials: %w", err)
	}
	if err := regcheck.Check(ctx, r, res.User, res.Secret); err != nil {
		return "", fmt.Errorf("%s/v2/ as %s: %w", r.ServerURL(), res.User, err)
	}
	return fmt.Sprintf("%s accepts the credentials of %s", r.ServerURL(), res.User), nil
}
