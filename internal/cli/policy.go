package cli

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/iampolicy"
)

func newPolicyCmd(g *globals) *cobra.Command {
	var full, trust bool
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
the sts:ExternalId condition when externalId is set), keyed by role ARN.`,
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
				if trust {
					doc = iampolicy.Trust(cfg, principal)
				} else {
					doc = iampolicy.Minimal(cfg)
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
	cmd.MarkFlagsMutuallyExclusive("full", "trust")
	return cmd
}
