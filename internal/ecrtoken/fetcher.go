package ecrtoken

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	"github.com/aws/smithy-go"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/secret"
)

// CallTimeout bounds one GetAuthorizationToken, retries and STS included.
const CallTimeout = 30 * time.Second

// CredentialsTimeout bounds the search for an identity's AWS credentials
// (the default chain ends at EC2 instance metadata, which an unreachable
// or firewalled endpoint would otherwise make wait for its retries).
const CredentialsTimeout = 5 * time.Second

// Fetcher gets ECR tokens. It keeps one SDK config per identity, so that
// STS sessions are cached between refreshes. Safe for concurrent use.
type Fetcher struct {
	mu      sync.Mutex
	clients map[Key]aws.Config
	// OnCall, when set, is told of every GetAuthorizationToken (for metrics).
	OnCall func(api string, err error)
	// HTTPClient, when set, carries every AWS call (tests watch where the
	// SDK sends them).
	HTTPClient aws.HTTPClient
	// sharedCA: HTTPClient trusts AWS_CA_BUNDLE already (NewFetcher).
	sharedCA bool
	// Log receives the SDK's own log lines (its warnings, at Warn), so
	// that they follow --log-format; nil discards them.
	Log *slog.Logger
}

// NewFetcher returns a Fetcher. Its identities share one HTTP client, so
// keep-alive connections to AWS are reused rather than opened per call;
// with AWS_CA_BUNDLE set, that client trusts the bundle, read once (see
// caBundleClient).
func NewFetcher() *Fetcher {
	hc, shared := caBundleClient(awshttp.NewBuildableClient())
	return &Fetcher{clients: map[Key]aws.Config{}, HTTPClient: hc, sharedCA: shared}
}

// Fetch gets a fresh token for reg (a protected ECR registry).
func (f *Fetcher) Fetch(ctx context.Context, reg *config.Registry) (creds.Token, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	key := KeyOf(reg)
	cfg, err := f.config(ctx, key, reg)
	if err != nil {
		return creds.Token{}, err
	}
	keys, err := retrieveCredentials(ctx, cfg, reg)
	if err != nil {
		if f.OnCall != nil {
			f.OnCall(apiName(reg), err)
		}
		return creds.Token{}, err
	}
	// The call signs with the keys just found: one search per fetch.
	cfg.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return keys, nil })
	var tok creds.Token
	api := apiName(reg)
	if reg.ECR.Public {
		tok, err = fetchPublic(ctx, cfg)
	} else {
		tok, err = fetchPrivate(ctx, cfg, reg.ECR.FIPS, reg.ECR.DualStack)
	}
	if f.OnCall != nil {
		f.OnCall(api, err)
	}
	if err != nil {
		if expiredKeys(err) {
			// The SDK keeps cached keys until its own clock says they
			// expire: start the identity afresh on the next fetch.
			f.forget(key)
		}
		return creds.Token{}, explain(err, time.Since(start))
	}
	return tok, nil
}

// apiName is the GetAuthorizationToken that reg needs, as metrics name it.
func apiName(reg *config.Registry) string {
	if reg.ECR.Public {
		return "ecr-public:GetAuthorizationToken"
	}
	return "ecr:GetAuthorizationToken"
}

// retrieveCredentials finds the identity's credentials before the call,
// within CredentialsTimeout, so that a missing identity is said as such
// rather than as the SDK's chain of provider errors. An STS failure (for
// type sts) is explained like any AWS failure; anything else means the
// default chain found nothing.
func retrieveCredentials(ctx context.Context, cfg aws.Config, reg *config.Registry) (aws.Credentials, error) {
	profile := ""
	if reg.Credentials != nil {
		profile = reg.Credentials.Profile
	}
	if cfg.Credentials == nil {
		return aws.Credentials{}, noCredentials(profile, errors.New("no credentials provider"))
	}
	ctx, cancel := context.WithTimeout(ctx, CredentialsTimeout)
	defer cancel()
	keys, err := cfg.Credentials.Retrieve(ctx)
	if err == nil {
		return keys, nil
	}
	var oe *smithy.OperationError
	if errors.As(err, &oe) && oe.Service() == "STS" {
		return aws.Credentials{}, explain(err, 0)
	}
	if reg.Credentials != nil && reg.Credentials.AccessKeyID != "" {
		return aws.Credentials{}, explain(err, 0)
	}
	return aws.Credentials{}, noCredentials(profile, err)
}

// expiredKeys reports whether AWS refused err's call because its keys (an
// STS session, or the keys that assume the role) have expired. The SDK's
// credentials cache never learns of it: it trusts the node's clock, which
// may be behind AWS's.
func expiredKeys(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ExpiredTokenException", "ExpiredToken",
		// Keys rotated in a shared credentials file: load them again.
		"UnrecognizedClientException", "InvalidClientTokenId":
		return true
	}
	return false
}

// forget drops the SDK config of one identity.
func (f *Fetcher) forget(key Key) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.clients, key)
}

// Forget drops the cached SDK configs of identities not in keep.
func (f *Fetcher) Forget(keep map[Key]bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.clients {
		if !keep[k] {
			delete(f.clients, k)
		}
	}
}

func (f *Fetcher) config(ctx context.Context, key Key, reg *config.Registry) (aws.Config, error) {
	f.mu.Lock()
	cfg, ok := f.clients[key]
	f.mu.Unlock()
	if ok {
		return cfg, nil
	}
	cfg, err := awsConfig(ctx, reg, reg.ECR.Region, f.HTTPClient, f.sharedCA, f.Log)
	if err != nil {
		return aws.Config{}, err
	}
	f.mu.Lock()
	f.clients[key] = cfg
	f.mu.Unlock()
	return cfg, nil
}

func fetchPrivate(ctx context.Context, cfg aws.Config, fips, dual bool) (creds.Token, error) {
	client := ecr.NewFromConfig(cfg, func(o *ecr.Options) {
		if customEndpoint(false) {
			return
		}
		if fips {
			o.EndpointOptions.UseFIPSEndpoint = aws.FIPSEndpointStateEnabled
		}
		if dual {
			o.EndpointOptions.UseDualStackEndpoint = aws.DualStackEndpointStateEnabled
		}
	})
	out, err := client.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return creds.Token{}, err
	}
	if len(out.AuthorizationData) == 0 {
		return creds.Token{}, errors.New("GetAuthorizationToken returned no token")
	}
	d := out.AuthorizationData[0]
	return decode(aws.ToString(d.AuthorizationToken), aws.ToTime(d.ExpiresAt))
}

func fetchPublic(ctx context.Context, cfg aws.Config) (creds.Token, error) {
	out, err := ecrpublic.NewFromConfig(cfg).GetAuthorizationToken(ctx, &ecrpublic.GetAuthorizationTokenInput{})
	if err != nil {
		return creds.Token{}, err
	}
	if out.AuthorizationData == nil {
		return creds.Token{}, errors.New("GetAuthorizationToken returned no token")
	}
	d := out.AuthorizationData
	return decode(aws.ToString(d.AuthorizationToken), aws.ToTime(d.ExpiresAt))
}

// decode splits a base64 "AWS:password" token.
func decode(token string, expires time.Time) (creds.Token, error) {
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return creds.Token{}, errors.New("authorization token is not base64")
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok || user != "AWS" || pass == "" {
		return creds.Token{}, errors.New("authorization token is not AWS:password")
	}
	if expires.IsZero() {
		return creds.Token{}, errors.New("authorization token has no expiry")
	}
	return creds.Token{Password: secret.New(pass), ExpiresAt: expires}, nil
}

// Explain turns an SDK error into a *Failure: one line with the operation
// and AWS's code, what kind of failure it is, and what to do. The SDK's
// messages carry no secrets.
func Explain(err error) error { return explain(err, 0) }

// explain is Explain for a call that waited so long (0: unknown) for AWS.
// The deadline that cut it may be the caller's, shorter than CallTimeout.
func explain(err error, waited time.Duration) error {
	var f *Failure
	if errors.As(err, &f) {
		return err
	}
	// The operation that failed is the innermost one above the API error:
	// an STS denial inside an ECR call is reported as STS AssumeRole.
	op := ""
	for e := err; e != nil; e = errors.Unwrap(e) {
		if oe, ok := e.(*smithy.OperationError); ok {
			op = oe.Service() + " " + oe.Operation() + ": "
		}
		if ae, ok := e.(smithy.APIError); ok {
			kind := kindOf(ae)
			return &Failure{Kind: kind, Code: ae.ErrorCode(), Msg: op + ae.ErrorCode() + ": " + ae.ErrorMessage() + "; " + advice(kind), err: err}
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		msg := "AWS did not answer in time"
		if waited > 0 {
			msg = fmt.Sprintf("AWS did not answer within %s", waited.Round(100*time.Millisecond))
		}
		return &Failure{Kind: KindUnreachable, Msg: msg + "; " + advice(KindUnreachable), err: err}
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &oe) || errors.As(err, &ne) {
		return &Failure{Kind: KindUnreachable, Msg: "cannot reach AWS: " + err.Error() + "; " + advice(KindUnreachable), err: err}
	}
	return err
}
