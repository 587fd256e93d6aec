package resolve

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/ecrtoken"
	"github.com/ocicred/ocicred/internal/tokencache"
	"github.com/ocicred/ocicred/test/awsfake"
)

const (
	testKeyID  = "AKIAOCICREDRESOLVE01"
	testSecret = "ocicred-resolve-secret-key-must-not-leak"
	prodHost   = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
	roleHost   = "210987654321.dkr.ecr.us-west-2.amazonaws.com"
	testConfig = `registries:
  - name: prod
    type: ecr
    endpoint: ` + prodHost + `
    credentials: {type: secret, accessKeyId: ` + testKeyID + `, secretAccessKeyEnv: OCICRED_RESOLVE_TEST_SK}
  - name: role
    type: ecr
    endpoint: ` + roleHost + `
    credentials: {type: sts, roleArn: "arn:aws:iam::210987654321:role/ecr-pull", accessKeyId: ` + testKeyID + `, secretAccessKeyEnv: OCICRED_RESOLVE_TEST_SK}
`
)

// awsFake starts the AWS stand-in, knowing the secret of the config's key,
// and points the SDK at it alone: every AWS_* variable of whoever runs the
// test is unset first.
func awsFake(t *testing.T, opts ...awsfake.Option) *awsfake.Server {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
			if err := os.Unsetenv(k); err != nil {
				t.Fatal(err)
			}
		}
	}
	srv := awsfake.Start(t, append([]awsfake.Option{awsfake.WithKey(testKeyID, testSecret)}, opts...)...)
	srv.Setenv(t)
	t.Setenv("OCICRED_RESOLVE_TEST_SK", testSecret)
	return srv
}

func writeConfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(testConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// local is one daemon-less answer, as `ocicred get --no-daemon` (quiet or
// not) works it out, with what it said on stderr. It fails the test if
// stderr shows the secret key.
func local(t *testing.T, cfg, host string, quiet bool) (Answer, string, error) {
	t.Helper()
	var stderr bytes.Buffer
	ans, err := Resolve(context.Background(), Options{ConfigPath: cfg, Quiet: quiet, Stderr: &stderr}, host, true)
	if strings.Contains(stderr.String()+ans.Reason, testSecret) {
		t.Errorf("resolving %s showed the secret key", host)
	}
	return ans, stderr.String(), err
}

// The second daemon-less answer comes from the token cache, with no AWS
// call, and says so; the cache holds no AWS key.
func TestTokensFromTheCache(t *testing.T) {
	srv := awsFake(t)
	cache := filepath.Join(t.TempDir(), "cache")
	t.Setenv("OCICRED_CACHE_DIR", cache)
	cfg := writeConfig(t)

	first, stderr, err := local(t, cfg, prodHost, false)
	if err != nil {
		t.Fatalf("first answer: %v", err)
	}
	if !srv.ValidToken(first.User, first.Secret) || strings.Contains(stderr, "token from the cache") {
		t.Errorf("first answer: not AWS's token, or said to come from the cache (stderr %q)", stderr)
	}
	if first.Reason != "registry prod: credentials worked out without the daemon" {
		t.Errorf("reason %q", first.Reason)
	}
	srv.Reset()
	second, stderr, err := local(t, cfg, prodHost, false)
	if err != nil || second != first {
		t.Errorf("second answer: %v; want the first one again", err)
	}
	if stderr != "registry prod: token from the cache\n" {
		t.Errorf("second answer's stderr %q", stderr)
	}
	if n := len(srv.Calls()); n != 0 {
		t.Errorf("second answer made %d AWS calls", n)
	}
	files, _ := filepath.Glob(filepath.Join(cache, "ecr-*.json"))
	if len(files) != 1 {
		t.Fatalf("cache files %v, want one", files)
	}
	data, _ := os.ReadFile(files[0])
	if strings.Contains(string(data), testSecret) || strings.Contains(string(data), testKeyID) {
		t.Error("the cache file holds AWS keys")
	}
}

// Without the daemon, a cached token with less than MinRemaining left is
// refreshed first, but when AWS fails it is still served until it expires,
// as the daemon serves its last good token (one rule for both); an AWS
// failure with no cached token fails as before.
func TestTokensServeTheLastGoodToken(t *testing.T) {
	srv := awsFake(t, awsfake.WithTokenLifetime(3*time.Minute)) // under tokencache.MinRemaining
	t.Setenv("OCICRED_CACHE_DIR", filepath.Join(t.TempDir(), "cache"))
	cfg := writeConfig(t)

	first, _, err := local(t, cfg, prodHost, false)
	if err != nil {
		t.Fatalf("first answer: %v", err)
	}
	srv.Inject(awsfake.ServiceUnavailable, awsfake.ECRGetAuthorizationToken, awsfake.Forever)
	srv.Reset()
	second, stderr, err := local(t, cfg, prodHost, false)
	if err != nil || second != first {
		t.Errorf("with AWS down and a token of 3 minutes cached: %v, stderr %q; want the cached token", err, stderr)
	}
	if !strings.Contains(stderr, "serving the cached token until it expires") {
		t.Errorf("stderr does not say the cached token was served: %q", stderr)
	}
	if n := srv.CallCount(awsfake.ECRGetAuthorizationToken); n == 0 {
		t.Error("the short-lived token was served without trying AWS first")
	}
	if _, _, err := local(t, cfg, roleHost, false); err == nil {
		t.Error("with AWS down and nothing cached, the answer succeeded")
	}
}

// A token cache folder others may write to is not used: a token planted
// there under the name a readable config gives away is never served, and
// stderr says once per answer, even when quiet (the helper's fallback),
// that tokens are not cached and how to fix it.
func TestTokensRefuseAnOpenCache(t *testing.T) {
	srv := awsFake(t)
	cfg := writeConfig(t)
	c, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := c.Registry("prod")
	cache := t.TempDir()
	if err := os.Chmod(cache, 0o1777); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OCICRED_CACHE_DIR", cache)
	planted := filepath.Join(cache, tokencache.Name(string(ecrtoken.KeyOf(reg))))
	if err := os.WriteFile(planted, []byte(`{"password":"planted-token","expiresAt":"2099-01-01T00:00:00Z"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for run := range 2 {
		ans, stderr, err := local(t, cfg, prodHost, true)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if ans.Secret == "planted-token" || !srv.ValidToken(ans.User, ans.Secret) {
			t.Errorf("run %d: the token served is not the one AWS issued", run)
		}
		want := "ocicred: tokens are not cached, so every pull asks AWS: token cache: " + cache + " is open to other users (mode 0777); chmod 700 it\n"
		if stderr != want {
			t.Errorf("run %d: stderr %q\nwant %q", run, stderr, want)
		}
	}
}
