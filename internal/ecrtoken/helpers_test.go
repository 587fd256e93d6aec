package ecrtoken

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/test/awsfake"
	"github.com/ocicred/ocicred/test/fakekit"
)

// Test credentials, registered with the fake by startFake: it verifies
// every signature with them and refuses any other key.
const (
	testKeyID     = "AKIAOCICREDTEST00001"
	testSecret    = "ocicred-test-secret-key-must-not-leak-1"
	envKeyID      = "AKIAOCICREDENV000001"
	envSecret     = "ocicred-env-secret-key-must-not-leak-2"
	profileKeyID  = "AKIAOCICREDPROFILE01"
	profileSecret = "profile-secret-must-not-leak"
	testRoleA     = "arn:aws:iam::210987654321:role/ecr-pull-a"
	testRoleB     = "arn:aws:iam::111122223333:role/team/ecr-pull-b"
	testHost      = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
)

// clearAWSEnv unsets every AWS_* variable for the rest of t, so that the
// settings of whoever runs the tests (a profile, keys, a region, endpoint
// URLs, FIPS) cannot reach the SDK. IMDS is switched off and the shared
// config files point at empty files, so ~/.aws is never read.
func clearAWSEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "") // restores the old value when t ends
			if err := os.Unsetenv(k); err != nil {
				t.Fatal(err)
			}
		}
	}
	dir := t.TempDir()
	for _, name := range []string{"config", "credentials"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
}

// startFake starts the AWS stand-in, knowing the secrets of the test keys,
// and points the SDK at it, and only at it.
func startFake(t *testing.T, opts ...awsfake.Option) *awsfake.Server {
	t.Helper()
	clearAWSEnv(t)
	keys := []awsfake.Option{awsfake.WithKey(testKeyID, testSecret),
		awsfake.WithKey(envKeyID, envSecret), awsfake.WithKey(profileKeyID, profileSecret)}
	srv := awsfake.Start(t, append(keys, opts...)...)
	srv.Setenv(t)
	return srv
}

// registries parses a config file body and resolves its secrets.
func registries(t *testing.T, yaml string) []*config.Registry {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), "c.yaml")
	if err != nil {
		t.Fatalf("config:\n%s\n%v", yaml, err)
	}
	if err := cfg.ResolveSecrets(config.OS); err != nil {
		t.Fatalf("secrets: %v", err)
	}
	return cfg.Registries
}

// registry is the one registry of a config holding only it.
func registry(t *testing.T, yaml string) *config.Registry {
	t.Helper()
	regs := registries(t, yaml)
	if len(regs) != 1 {
		t.Fatalf("want 1 registry, got %d", len(regs))
	}
	return regs[0]
}

// secretRegistry is an ECR registry at host with static test keys.
func secretRegistry(t *testing.T, host string) *config.Registry {
	t.Helper()
	return registry(t, `registries:
  - name: r
    type: ecr
    endpoint: `+host+`
    credentials: {type: secret, accessKeyId: `+testKeyID+`, secretAccessKey: `+testSecret+`}
`)
}

// testCtx bounds a test's AWS calls well below the test timeout.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// callsOf returns the recorded calls of one action ("service:Action").
func callsOf(srv *awsfake.Server, action string) []awsfake.Call {
	var out []awsfake.Call
	for _, c := range srv.Calls() {
		if c.Service+":"+c.Action == action {
			out = append(out, c)
		}
	}
	return out
}

// clock is a settable offset from the wall clock, for awsfake.WithNow.
// It moves the fake's clock only: the SDK's credentials cache reads the
// wall clock, and the SDK gives no way to change that.
type clock = fakekit.Clock

// tokenSniffer carries AWS calls to the fake over the network and remembers
// every session token they were signed with, so that tests can look for
// them where they must not be.
type tokenSniffer struct {
	mu     sync.Mutex
	tokens []string
}

func (s *tokenSniffer) Do(r *http.Request) (*http.Response, error) {
	if tok := r.Header.Get("X-Amz-Security-Token"); tok != "" {
		s.mu.Lock()
		s.tokens = append(s.tokens, tok)
		s.mu.Unlock()
	}
	return http.DefaultClient.Do(r)
}

func (s *tokenSniffer) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.tokens...)
}
