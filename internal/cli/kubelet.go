package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ocicred/ocicred/internal/kubeletplugin"
	"github.com/ocicred/ocicred/internal/localapi"
	"github.com/ocicred/ocicred/internal/resolve"
)

func newKubeletProviderCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "kubelet-credential-provider",
		Short: "Answer the kubelet's credential-provider plugin requests on stdin/stdout",
		Long: `The kubelet runs this (configured by 'ocicred setup kubelet') with a
CredentialProviderRequest (credentialprovider.kubelet.k8s.io/v1) on stdin, and
reads a CredentialProviderResponse on stdout. It asks the daemon, and works the
answer out from the config when the daemon is down. An image ocicred does not
manage gets an empty auth.`,
		Example: `  echo '{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"123456789012.dkr.ecr.us-west-2.amazonaws.com/app:v1"}' \
    | ocicred kubelet-credential-provider`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req, err := kubeletplugin.ReadRequest(g.stdin)
			if err != nil {
				return exitWith(ExitFailure, err)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 50*time.Second) // inside the kubelet's minute
			defer cancel()
			resp, err := kubeletplugin.Respond(ctx, req, g.kubeletResolve, time.Now())
			if err != nil {
				return exitWith(ExitFailure, fmt.Errorf("image %s: %w", req.Image, err))
			}
			return json.NewEncoder(g.stdout).Encode(resp)
		},
	}
}

func (g globals) kubeletResolve(ctx context.Context, host string) (kubeletplugin.Answer, error) {
	res, err := resolve.Resolve(ctx, g.resolveOptions(localapi.ClientKubelet, fallbackFlags{}, false), host, false)
	if err != nil {
		return kubeletplugin.Answer{}, err
	}
	return kubeletplugin.Answer{Username: res.User, Password: res.Secret, ExpiresAt: res.ExpiresAt}, nil
}
