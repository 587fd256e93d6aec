package ecrtoken

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"

	"github.com/ocicred/ocicred/config"
)

// Defaults of STS sessions the config leaves open. One hour is every
// role's minimum maximum, and the cap for chained roles; the SDK's own
// default is 15 minutes.
const (
	DefaultSessionName     = "ocicred"
	DefaultSessionDuration = time.Hour
)

// Retry policy of every AWS call: the SDK handles short blips; the
// daemon's refresh loop handles long outages.
const (
	maxAttempts = 3
	maxBackoff  = 2 * time.Second
)

// ThrottleException is the throttling code the ECR troubleshooting page
// names and the SDK does not retry by default.
const ThrottleException = "ThrottleException"

func newRetryer() aws.Retryer {
	return retry.AddWithErrorCodes(retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxAttempts
		o.MaxBackoff = maxBackoff
	}), ThrottleException)
}

// awsConfig builds the SDK config of reg's identity in region. It honours
// the SDK's environment (AWS_ENDPOINT_URL_*, AWS_PROFILE, …).
//
// sharedCA says that hc trusts AWS_CA_BUNDLE already (caBundleClient):
// then the config keeps hc rather than the copy the SDK makes of it for
// the bundle.
func awsConfig(ctx context.Context, reg *config.Registry, region string, hc aws.HTTPClient, sharedCA bool, log *slog.Logger) (aws.Config, error) {
	c := reg.Credentials
	if c == nil {
		c = &config.Credentials{Type: config.CredDefault}
	}
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithRegion(region),
		awsconfig.WithRetryer(newRetryer),
		awsconfig.WithLogger(sdkLogger{log}),
	}
	if hc != nil {
		opts = append(opts, awsconfig.WithHTTPClient(hc))
	}
	if c.Type == config.CredDefault && c.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(c.Profile))
	}
	if c.AccessKeyID != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretKey().Reveal(), "")))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	if hc != nil && sharedCA && os.Getenv(caBundleEnv) != "" {
		// The SDK has given this identity its own copy of hc with the
		// bundle parsed into it (AWS_CA_BUNDLE wins over a profile's
		// ca_bundle); hc trusts the same bundle already (caBundleClient).
		cfg.HTTPClient = hc
	}
	if c.Type == config.CredSTS {
		cfg.Credentials = assumeRole(cfg, c)
	}
	return cfg, nil
}

// caBundleEnv names the AWS SDK's CA bundle variable.
const caBundleEnv = "AWS_CA_BUNDLE"

// caBundleClient is hc trusting the PEM bundle AWS_CA_BUNDLE names, read
// and parsed once, and true; hc itself and false when the variable is
// unset or the file cannot be used (LoadDefaultConfig then reports it, as
// it would without this). Without it, every identity × region's SDK config parses the
// bundle and keeps its own pool and connections: with the system bundle,
// 15 MiB at 30 pairs (BENCHMARKS.md, "Profiles").
func caBundleClient(hc *awshttp.BuildableClient) (*awshttp.BuildableClient, bool) {
	path := os.Getenv(caBundleEnv)
	if path == "" {
		return hc, false
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return hc, false
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return hc, false
	}
	return hc.WithTransportOptions(func(tr *http.Transport) {
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		tr.TLSClientConfig.RootCAs = pool
	}), true
}

// sdkLogger sends the SDK's log lines to slog, at Warn for its warnings
// and Debug for the rest, so they follow the daemon's level and format; a
// nil logger discards them (the SDK's default writes plain text to stderr).
type sdkLogger struct{ log *slog.Logger }

func (l sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	if l.log == nil {
		return
	}
	level := slog.LevelDebug
	if c == logging.Warn {
		level = slog.LevelWarn
	}
	l.log.Log(context.Background(), level, fmt.Sprintf(format, v...), "component", "aws-sdk")
}

// assumeRole wraps the base credentials of cfg in an AssumeRole provider,
// cached and refreshed before the session expires.
func assumeRole(base aws.Config, c *config.Credentials) aws.CredentialsProvider {
	provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), c.RoleArn, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = c.SessionName
		if o.RoleSessionName == "" {
			o.RoleSessionName = DefaultSessionName
		}
		if c.ExternalID != "" {
			o.ExternalID = aws.String(c.ExternalID)
		}
		o.Duration = DefaultSessionDuration
		if c.Duration.Duration > 0 {
			o.Duration = c.Duration.Duration
		}
	})
	return aws.NewCredentialsCache(provider, func(o *aws.CredentialsCacheOptions) {
		o.ExpiryWindow = 5 * time.Minute
		o.ExpiryWindowJitterFrac = 0.2
	})
}

// customEndpoint reports whether the environment points the SDK at
// another ECR endpoint (a VPC endpoint, or a test's stand-in): FIPS and
// dual-stack resolution must stay off then, or the SDK refuses.
func customEndpoint(public bool) bool {
	if os.Getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") == "true" {
		return false
	}
	name := "AWS_ENDPOINT_URL_ECR"
	if public {
		name = "AWS_ENDPOINT_URL_ECR_PUBLIC"
	}
	return os.Getenv(name) != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
}
