package awsfake

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// Static test credentials, registered with the fake by start.
const (
	testKeyID  = "AKIAAWSFAKETEST00001"
	testSecret = "awsfake-test-secret-key-not-a-real-one"
	testRegion = "eu-west-1"
)

// fakeClock is a settable clock for WithNow.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock {
	return &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// isolate keeps the SDK away from ~/.aws, IMDS and AWS settings in the
// environment of whoever runs the tests.
func isolate(t *testing.T) {
	t.Helper()
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID",
		"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_USE_FIPS_ENDPOINT",
		"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CA_BUNDLE", "AWS_REGION",
		"AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL_ECR", "AWS_ENDPOINT_URL_ECR_PUBLIC",
		"AWS_ENDPOINT_URL_STS", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"} {
		t.Setenv(k, "")
	}
}

// noBackoff retries at once, so retry tests do not sleep.
func noBackoff(int, error) (time.Duration, error) { return 0, nil }

// sdkConfig loads an SDK config with static credentials and no shared files.
func sdkConfig(t *testing.T, creds aws.CredentialsProvider) aws.Config {
	t.Helper()
	isolate(t)
	cfg, err := config.LoadDefaultConfig(testCtx(t),
		config.WithRegion(testRegion),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
		config.WithCredentialsProvider(creds),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(noBackoff)
			})
		}),
	)
	if err != nil {
		t.Fatalf("load SDK config: %v", err)
	}
	return cfg
}

// staticCreds are the long-term test keys.
func staticCreds() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(testKeyID, testSecret, "")
}

// clients are the three SDK clients pointed at one fake.
type clients struct {
	ecr       *ecr.Client
	ecrPublic *ecrpublic.Client
	sts       *sts.Client
}

// newClients points real SDK clients at srv through BaseEndpoint.
func newClients(srv *Server, cfg aws.Config) clients {
	return clients{
		ecr:       ecr.NewFromConfig(cfg, func(o *ecr.Options) { o.BaseEndpoint = aws.String(srv.URL) }),
		ecrPublic: ecrpublic.NewFromConfig(cfg, func(o *ecrpublic.Options) { o.BaseEndpoint = aws.String(srv.URL) }),
		sts:       sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL) }),
	}
}

// start runs a fake on a fake clock that knows the static test key, and
// returns SDK clients signing with it.
func start(t *testing.T, opts ...Option) (*Server, *fakeClock, clients) {
	t.Helper()
	clock := newClock()
	srv := Start(t, append([]Option{WithNow(clock.Now), WithKey(testKeyID, testSecret)}, opts...)...)
	return srv, clock, newClients(srv, sdkConfig(t, staticCreds()))
}

// errorCode returns the API error code of err, or "" if it has none.
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// decodeToken splits an authorizationToken into user and password.
func decodeToken(t *testing.T, tok string) (user, pass string) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(tok)
	if err != nil {
		t.Fatalf("token is not base64: %v", err)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		t.Fatalf("token has no user:password form")
	}
	return user, pass
}

// fakeJWT builds an unsigned JWT with the given claims.
func fakeJWT(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc([]byte(claims)) + "." + enc([]byte("sig"))
}

// testCtx bounds a test's calls, so that a fake that wrongly hangs fails
// the test instead of stalling the run.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
