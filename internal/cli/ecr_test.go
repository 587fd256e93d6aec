package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocicred/ocicred/test/awsfake"
)

const (
	ecrTestKeyID    = "AKIAOCICREDCLITEST01"
	ecrDeniedKeyID  = "AKIAOCICREDCLIDENY01"
	ecrTestSecret   = "ocicred-cli-secret-key-must-not-leak"
	ecrTestRole     = "arn:aws:iam::210987654321:role/ecr-pull"
	ecrProdHost     = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
	ecrRoleHost     = "210987654321.dkr.ecr.us-west-2.amazonaws.com"
	ecrDeniedHost   = "333333333333.dkr.ecr.eu-west-1.amazonaws.com"
	ecrGalleryHost  = "public.ecr.aws"
	ecrTestConfigCL = `registries:
  - name: prod
    type: ecr
    endpoint: ` + ecrProdHost + `
    credentials: {type: secret, accessKeyId: ` + ecrTestKeyID + `, secretAccessKeyEnv: OCICRED_CLI_TEST_SK}
  - name: role
    type: ecr
    endpoint: ` + ecrRoleHost + `
    credentials: {type: sts, roleArn: "` + ecrTestRole + `", accessKeyId: ` + ecrTestKeyID + `, secretAccessKeyEnv: OCICRED_CLI_TEST_SK}
  - name: denied
    type: ecr
    endpoint: ` + ecrDeniedHost + `
    credentials: {type: secret, accessKeyId: ` + ecrDeniedKeyID + `, secretAccessKeyEnv: OCICRED_CLI_TEST_SK}
  - name: gallery
    type: ecr
    endpoint: ` + ecrGalleryHost + `
    protected: false
`
)

// ecrFake starts the AWS stand-in, knowing the secret of the config's keys,
// and points the SDK at it alone: every AWS_* variable of whoever runs the
// test is unset first.
func ecrFake(t *testing.T, opts ...awsfake.Option) *awsfake.Server {
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
	opts = append([]awsfake.Option{awsfake.WithKey(ecrTestKeyID, ecrTestSecret), awsfake.WithKey(ecrDeniedKeyID, ecrTestSecret)}, opts...)
	srv := awsfake.Start(t, opts...)
	srv.Setenv(t)
	return srv
}

// TestGetECRWithoutDaemon: `ocicred get --no-daemon` for ECR registries
// against the fake, with a token cache in a temp folder.
func TestGetECRWithoutDaemon(t *testing.T) {
	srv := ecrFake(t)
	cache := filepath.Join(t.TempDir(), "cache")
	t.Setenv("OCICRED_CACHE_DIR", cache)
	t.Setenv("OCICRED_CLI_TEST_SK", ecrTestSecret)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, cfg, ecrTestConfigCL, 0o600)
	get := func(host string) (stdout, stderr string, code int) {
		t.Helper()
		stdout, stderr, code = ocicred(t, "get", "--no-daemon", "--config", cfg, host)
		if strings.Contains(stdout+stderr, ecrTestSecret) {
			t.Errorf("get %s printed the secret key", host)
		}
		return stdout, stderr, code
	}

	for i, tt := range []struct {
		name, host string
		calls      map[string]int // AWS calls of the first get
	}{
		{"prod", ecrProdHost, map[string]int{awsfake.ECRGetAuthorizationToken: 1, awsfake.STSAssumeRole: 0}},
		{"role", ecrRoleHost, map[string]int{awsfake.ECRGetAuthorizationToken: 1, awsfake.STSAssumeRole: 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv.Reset()
			stdout, stderr, code := get(tt.host)
			if code != 0 {
				t.Fatalf("get %s: exit %d, stdout %q, stderr %q", tt.host, code, stdout, stderr)
			}
			type answer struct{ ServerURL, Username, Secret string }
			var ans answer
			if err := json.Unmarshal([]byte(stdout), &ans); err != nil {
				t.Fatalf("stdout %q: %v", stdout, err)
			}
			want, _ := json.Marshal(answer{ServerURL: tt.host, Username: "AWS", Secret: ans.Secret})
			if stdout != string(want)+"\n" || !strings.HasPrefix(stdout, `{"ServerURL":`) {
				t.Errorf("stdout %q, want %s", stdout, want)
			}
			if !srv.ValidToken(ans.Username, ans.Secret) {
				t.Errorf("the fake does not know the secret printed")
			}
			if !strings.Contains(stderr, "registry "+tt.name+": credentials worked out without the daemon") {
				t.Errorf("stderr %q", stderr)
			}
			for action, n := range tt.calls {
				if got := srv.CallCount(action); got != n {
					t.Errorf("first get: %d calls of %s, want %d", got, action, n)
				}
			}

			// The second get is answered from the cache, with no AWS call.
			srv.Reset()
			stdout2, stderr2, code := get(tt.host)
			if code != 0 || stdout2 != stdout {
				t.Errorf("second get: exit %d, stdout %q; want the first answer %q", code, stdout2, stdout)
			}
			if n := len(srv.Calls()); n != 0 {
				t.Errorf("second get made %d AWS calls: %+v", n, srv.Calls())
			}
			if !strings.Contains(stderr2, "registry "+tt.name+": token from the cache") {
				t.Errorf("second get stderr %q", stderr2)
			}
			// One file per identity: prod's, then role's beside it.
			files, _ := filepath.Glob(filepath.Join(cache, "ecr-*.json"))
			if len(files) != i+1 {
				t.Fatalf("cache files after %s: %v, want %d", tt.name, files, i+1)
			}
			slices.SortFunc(files, func(a, b string) int { return modTime(a).Compare(modTime(b)) })
			files = files[len(files)-1:]
			fi, err := os.Stat(files[0])
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("cache file %s: mode %v, err %v; want 0600", files[0], fi.Mode().Perm(), err)
			}
			data, _ := os.ReadFile(files[0])
			if strings.Contains(string(data), ecrTestSecret) || strings.Contains(string(data), ecrTestKeyID) {
				t.Errorf("cache file holds AWS keys: %s", data)
			}
		})
	}
	if fi, err := os.Stat(cache); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("cache folder: %v, %v; want mode 0700", fi.Mode().Perm(), err)
	}

	t.Run("access denied", func(t *testing.T) {
		srv.Reset()
		srv.DenyAccessKey(ecrDeniedKeyID)
		stdout, _, code := get(ecrDeniedHost)
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		if !strings.HasPrefix(stdout, "registry denied: ECR GetAuthorizationToken: AccessDeniedException: ") ||
			strings.Count(stdout, "\n") != 1 || !strings.HasSuffix(stdout, "\n") {
			t.Errorf("stdout %q, want one line: registry denied: ECR GetAuthorizationToken: AccessDeniedException: …", stdout)
		}
		if n := srv.CallCount(awsfake.ECRGetAuthorizationToken); n != 1 {
			t.Errorf("%d GetAuthorizationToken calls, want 1", n)
		}
		if files, _ := filepath.Glob(filepath.Join(cache, "ecr-denied-*")); len(files) != 0 {
			t.Errorf("a refusal was cached: %v", files)
		}
	})

	t.Run("unprotected", func(t *testing.T) {
		srv.Reset()
		stdout, stderr, code := get(ecrGalleryHost)
		if code != 1 || stdout != "credentials not found in native keychain\n" {
			t.Errorf("exit %d, stdout %q; want 1 and the not-found line", code, stdout)
		}
		if !strings.Contains(stderr, "registry gallery is unprotected") {
			t.Errorf("stderr %q", stderr)
		}
		if n := len(srv.Calls()); n != 0 {
			t.Errorf("%d AWS calls for an unprotected registry", n)
		}
	})
}

// TestGetECRWrongSecret: `ocicred get --no-daemon` for registries whose
// access key id is known to AWS but whose secret key, from
// secretAccessKeyFile or secretAccessKeyEnv, is not its secret: AWS refuses
// the signature, and the one line the user sees names the registry and
// AWS's reason, never a secret key. Nothing is cached.
func TestGetECRWrongSecret(t *testing.T) {
	const (
		wrongFileSecret = "ocicred-cli-wrong-secret-in-file"
		wrongEnvSecret  = "ocicred-cli-wrong-secret-in-env"
	)
	srv := ecrFake(t)
	cache := filepath.Join(t.TempDir(), "cache")
	t.Setenv("OCICRED_CACHE_DIR", cache)
	t.Setenv("OCICRED_CLI_WRONG_SK", wrongEnvSecret)
	dir := t.TempDir()
	skFile := filepath.Join(dir, "sk")
	writeFile(t, skFile, wrongFileSecret+"\n", 0o600)
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, `registries:
  - name: wrong-file
    type: ecr
    endpoint: `+ecrProdHost+`
    credentials: {type: secret, accessKeyId: `+ecrTestKeyID+`, secretAccessKeyFile: `+skFile+`}
  - name: wrong-env
    type: ecr
    endpoint: `+ecrRoleHost+`
    credentials: {type: secret, accessKeyId: `+ecrTestKeyID+`, secretAccessKeyEnv: OCICRED_CLI_WRONG_SK}
`, 0o600)
	for _, tt := range []struct{ name, host string }{{"wrong-file", ecrProdHost}, {"wrong-env", ecrRoleHost}} {
		t.Run(tt.name, func(t *testing.T) {
			srv.Reset()
			stdout, stderr, code := ocicred(t, "get", "--no-daemon", "--config", cfg, tt.host)
			if code != 1 {
				t.Fatalf("exit %d, want 1 (stdout not shown: it may hold a token)", code)
			}
			want := "registry " + tt.name + ": ECR GetAuthorizationToken: InvalidSignatureException: "
			if !strings.HasPrefix(stdout, want) || strings.Count(stdout, "\n") != 1 {
				t.Errorf("stdout %q, want one line starting %q", stdout, want)
			}
			for _, secret := range []string{wrongFileSecret, wrongEnvSecret, ecrTestSecret} {
				if strings.Contains(stdout+stderr, secret) {
					t.Errorf("get printed a secret key (%d bytes)", len(secret))
				}
			}
			calls := srv.Calls()
			if len(calls) != 1 || calls[0].AccessKeyID != ecrTestKeyID || calls[0].ErrorCode != "InvalidSignatureException" {
				t.Errorf("AWS calls %+v, want one by %s refused for its signature", calls, ecrTestKeyID)
			}
		})
	}
	if files, _ := filepath.Glob(filepath.Join(cache, "ecr-*")); len(files) != 0 {
		t.Errorf("a refusal was cached: %v", files)
	}
}

// modTime is path's modification time, zero when it cannot be read.
func modTime(path string) time.Time {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}
