package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/localapi"
	"github.com/ocicred/ocicred/test/awsfake"
	"github.com/ocicred/ocicred/test/azfake"
	"github.com/ocicred/ocicred/test/gcpfake"
)

// cloudFakes are the three clouds' stand-ins of one MeasureCloudTokens run,
// with lifetimes divided by TimeScale.
type cloudFakes struct {
	aws *awsfake.Server
	gcp *gcpfake.Server
	az  *azfake.Server
	// acrSecrets are the ACR identities' client secrets, by identity.
	acrSecrets []string
}

// startCloudFakes starts the fakes and registers the fleet's identities:
// ECR access keys, GAR service-account keys (written to dir, 0600), ACR
// applications and one registry front per ACR registry, each granting
// AcrPull to its identity. No front has a registry behind it: a token
// fetch never goes past /oauth2/exchange.
func startCloudFakes(dir string, m MixedFleet) (*cloudFakes, MixedSetup, error) {
	var setup MixedSetup
	keys := make([]awsfake.Option, 0, m.ECRIdentities+1)
	for i := range m.ECRIdentities {
		keys = append(keys, awsfake.WithKey(ecrKeyID(i), benchSecretKey))
	}
	aws, err := awsfake.New(append(keys, awsfake.WithTokenLifetime(scaled(ecrLifetime)))...)
	if err != nil {
		return nil, setup, err
	}
	f := &cloudFakes{aws: aws, gcp: gcpfake.New(gcpfake.WithTokenLifetime(scaled(garLifetime)))}
	if f.az, err = azfake.New(azfake.WithRefreshLifetime(scaled(acrRefreshLifetime)),
		azfake.WithEntraLifetime(entraScaledLifetime())); err != nil {
		f.Close()
		return nil, setup, err
	}
	for i := range m.GARIdentities {
		file := filepath.Join(dir, fmt.Sprintf("gar-key-%d.json", i))
		if err := os.WriteFile(file, f.gcp.NewKey(garEmail(i)).JSON(), 0o600); err != nil {
			f.Close()
			return nil, setup, err
		}
		setup.GARKeyFiles = append(setup.GARKeyFiles, file)
	}
	nowhere := &url.URL{Scheme: "http", Host: "127.0.0.1:9"} // the discard port: never reached
	for i := range m.ACRIdentities {
		f.acrSecrets = append(f.acrSecrets, "bench-acr-secret-"+rand.Text())
		f.az.AddClientSecret(acrTenant, acrClientID(i), f.acrSecrets[i])
		for range m.ACRPerIdentity {
			reg := f.az.NewRegistry(nowhere)
			reg.Grant(acrClientID(i))
			setup.ACRRegistries = append(setup.ACRRegistries, reg.URL)
		}
	}
	setup.AuthorityHost = f.az.AuthorityHost()
	return f, setup, nil
}

// Close stops the three fakes (and the ACR fronts).
func (f *cloudFakes) Close() {
	f.aws.Close()
	f.gcp.Close()
	if f.az != nil {
		f.az.Close()
	}
}

// env is what the daemon needs to reach the fakes: awsfake's endpoints,
// Entra ID's authority host and CA, and the ACR client secrets.
func (f *cloudFakes) env() []string {
	env := append(f.aws.Env(), f.az.Env()...)
	for i, s := range f.acrSecrets {
		env = append(env, acrSecretEnv(i)+"="+s)
	}
	return env
}

// requests are every request the fakes saw, oldest first.
func (f *cloudFakes) requests() []request {
	var out []request
	for _, c := range f.aws.Calls() {
		r := request{cloud: "ECR", identity: c.AccessKeyID, kind: c.Service + ":" + c.Action, unit: c.Region,
			at: c.Time, failed: c.ErrorCode != ""}
		if c.Service == "ecr" && c.Action == "GetAuthorizationToken" {
			r.kind = reqECR
		}
		out = append(out, r)
	}
	for _, c := range f.gcp.Calls() {
		r := request{cloud: "GAR", identity: c.Principal, kind: c.Endpoint, unit: c.Principal,
			at: c.Time, failed: c.Error != "" || c.Status >= 400}
		if c.Endpoint == gcpfake.EndpointToken {
			r.kind = reqGoogle
		}
		out = append(out, r)
	}
	for _, c := range f.az.Calls() {
		r := request{cloud: "ACR", identity: c.ClientID, kind: c.Endpoint, unit: c.ClientID,
			at: c.Time, failed: c.Error != "" || c.Status >= 400}
		switch c.Endpoint {
		case azfake.EndpointToken:
			r.kind = reqEntra
		case azfake.EndpointExchange:
			r.kind, r.unit = reqExchange, c.Registry
		case azfake.EndpointOpenID:
			r.kind, r.identity, r.unit = reqOpenID, "tenant "+c.Tenant+" (not named)", c.Tenant
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b request) int { return a.at.Compare(b.at) })
	return out
}

// MeasureCloudTokens starts the real `ocicred daemon` binary on the
// fleet's config with the three fakes behind it (lifetimes divided by
// TimeScale), waits until status shows every registry ready, checks one
// answer of each cloud, then lets it run for ScaledWindow of the clouds'
// time and counts the token requests each fake saw, per identity.
func MeasureCloudTokens(ctx context.Context, bin Binaries, m MixedFleet) (CloudTokensResult, error) {
	r := CloudTokensResult{Fleet: m}
	dir, err := os.MkdirTemp("", "ocbench-clouds-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	fakes, setup, err := startCloudFakes(dir, m)
	if err != nil {
		return r, err
	}
	defer fakes.Close()
	cfg, err := m.Config(setup)
	if err != nil {
		return r, err
	}
	cfgPath, sock := filepath.Join(dir, "mixed.yaml"), filepath.Join(dir, "s.sock")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return r, err
	}
	env := append([]string{"PATH=/usr/bin:/bin", "HOME=" + dir, "OCICRED_CACHE_DIR=" + filepath.Join(dir, "cache")}, fakes.env()...)
	var ready time.Time
	start := time.Now()
	proc, err := startDaemon(ctx, bin, env, cfgPath, sock, func() { ready = time.Now() })
	if err != nil {
		return r, err
	}
	r.Ready = ready.Sub(start)
	checkErr := checkAnswers(ctx, sock, []string{
		fmt.Sprintf("%d.dkr.ecr.%s.amazonaws.com", 200000000000, m.ECRRegions[0]), config.UserECR,
		garHosts[0], config.UserGAR,
		hostOf(setup.ACRRegistries[0]), config.UserACR,
	})
	window := scaled(ScaledWindow)
	select {
	case <-time.After(window):
	case <-proc.Done():
	case <-ctx.Done():
	}
	r.Window = time.Since(ready)
	r.Counts = tally(fakes.requests(), ready)
	if err := proc.Stop(10 * time.Second); err != nil {
		return r, fmt.Errorf("stop the daemon: %w\n%s", err, proc.Output())
	}
	if checkErr != nil {
		return r, checkErr
	}
	return r, ctx.Err()
}

// checkAnswers asks the daemon for each host of hostUsers (host, user
// pairs) and fails unless it answers that user and a token.
func checkAnswers(ctx context.Context, sock string, hostUsers []string) error {
	client := localapi.NewClient(sock)
	for i := 0; i+1 < len(hostUsers); i += 2 {
		host, user := hostUsers[i], hostUsers[i+1]
		got, err := client.Credentials(ctx, host)
		if err != nil || got.Username != user || got.Secret == "" {
			return fmt.Errorf("credentials for %s: %v (user %q, want %q and a token)", host, err, got.Username, user)
		}
	}
	return nil
}
