package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/iampolicy"
)

func newPolicyCmd(g *globals) *cobra.Command {
	var full, trust, roles bool
	var principal string
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Print the minimal IAM policy for the configured ECR registries",
		Long: `Print the IAM policy the node's AWS identity (or the role it assumes) needs to
pull from the protected ECR registries of the config: ecr:GetAuthorizationToken
and the pull actions on their repositories, plus ecr-public:GetAuthorizationToken
and sts:GetServiceBearerToken for ECR Public.

--full prints the complete policy of the registry documentation instead.
--trust prints, for every sts registry, the trust policy its role needs (with
the sts:ExternalId condition when externalId is set), keyed by role ARN.
--roles prints, for every gar and acr registry, the role its identity needs:
roles/artifactregistry.reader on Google, AcrPull on Azure.`,
		Example: `  ocicred policy > ocicred-pull.json
  ocicred policy --trust --principal arn:aws:iam::111122223333:role/node`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			var doc any
			switch {
			case full:
				doc = iampolicy.Full()
			default:
				cfg, err := config.Read(g.configPath)
				if err != nil {
					return exitWith(ExitUsage, err)
				}
				switch {
				case roles:
					_ = cfg.ResolveSecrets(config.OS) // the key's client_email, when readable
					doc = iampolicy.Roles(cfg)
				case trust:
					doc = iampolicy.Trust(cfg, principal)
				default:
					doc = iampolicy.Minimal(cfg)
					if n := len(iampolicy.Roles(cfg)); n > 0 {
						fmt.Fprintf(g.stderr, "note: %d gar or acr registries need cloud roles, not IAM policies; run ocicred policy --roles\n", n)
					}
				}
			}
			enc := json.NewEncoder(g.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(doc)
		},
	}
	cmd.Flags().BoolVar(&full, "full", false, "print the complete policy of the registry documentation")
	cmd.Flags().BoolVar(&trust, "trust", false, "print the trust policies of the roles that sts registries assume")
	cmd.Flags().StringVar(&principal, "principal", "", "with --trust: the ARN of the node's identity that assumes the roles")
	cmd.Flags().BoolVar(&roles, "roles", false, "print the Google and Azure roles that gar and acr registries need")
	cmd.MarkFlagsMutuallyExclusive("full", "trust", "roles")
	return cmd
}
