package e2e

import (
	"encoding/base64"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocicred/ocicred/internal/awsfake"
)

const (
	// ecrLifetime is the fake's token lifetime in the refresh test: the
	// daemon refreshes after half of it, give or take a tenth (spec).
	ecrLifetime = 30 * time.Second
	// earliestRefresh is the soonest the daemon may refresh a fresh token.
	earliestRefresh = ecrLifetime * 4 / 10
	latestRefresh   = ecrLifetime * 6 / 10

	testAccessKeyID = "AKIAIOSFODNN7EXAMPLE"
	secretKeyEnv    = "OCICRED_TEST_SK"
)

// prodRegistry is the registry the ECR front stands for in the tests whose
// "prod" signs with a long-term key (an IAM user of the fake's default
// account): a token from another account or region does not open it.
var prodRegistry = awsfake.Registry{Account: awsfake.DefaultAccount, Region: "us-west-2"}

// ecrScenario is an ECR stand-in holding the test image, and a sandbox whose
// ocicred config has the protected registry "prod" (the front, secret-key
// credentials from the environment) and the unprotected registry "open"
// (the upstream itself), both sent to docker-credential-ocicred by the
// docker config.
type ecrScenario struct {
	*Env
	ecr       *ECR
	ref       string // FRONT/demo/hello:v1
	openRef   string // UPSTREAM/demo/hello:v1
	digest    string
	secretKey string
	cacheDir  string // OCICRED_CACHE_DIR, for `ocicred get --no-daemon`
}

func newECRScenario(t *testing.T, opts ...awsfake.Option) *ecrScenario {
	t.Helper()
	bin := BuildBinaries(t)
	ecr := StartECR(t, prodRegistry, opts...)
	env := NewEnv(t, bin)
	s := &ecrScenario{
		Env: env, ecr: ecr, secretKey: Secret("aws-secret-key"),
		ref:      ecr.Host + "/" + repo + ":" + tag,
		openRef:  ecr.Upstream.Host + "/" + repo + ":" + tag,
		cacheDir: filepath.Join(env.Root, "token-cache"),
	}
	env.Secrets = append(env.Secrets, s.secretKey)
	ecr.Fake.AddKey(testAccessKeyID, s.secretKey)
	env.Extra = append(ecr.Fake.Env(), secretKeyEnv+"="+s.secretKey, "OCICRED_CACHE_DIR="+s.cacheDir)
	s.digest = ecr.PushImage(t, repo, tag)
	WriteECRConfig(t, env.Config,
		ECRRegistry{Name: "prod", Endpoint: "http://" + ecr.Host, Region: ecr.Registry.Region,
			AccessKeyID: testAccessKeyID, SecretKeyEnv: secretKeyEnv},
		ECRRegistry{Name: "open", Endpoint: "http://" + ecr.Upstream.Host, Region: "us-west-2", Unprotected: true},
	)
	WriteDockerConfig(t, env.DockerConfig, DockerConfig{CredHelpers: map[string]string{
		ecr.Host: "ocicred", ecr.Upstream.Host: "ocicred",
	}})
	return s
}

func (s *ecrScenario) awsCalls() int {
	return s.ecr.Fake.CallCount(awsfake.ECRGetAuthorizationToken)
}

// TestECRThroughDaemon: the daemon fetches one token at start and serves it
// to every pull however many there are; about half a lifetime later it
// refreshes with one more call, the new token works, and once the first
// token has expired pulls still work (an expired token is never served).
// With the daemon stopped, the helper works a token out itself. The
// unprotected registry gets the not-found answer and anonymous pulls. No
// token nor the secret key reaches the daemon's log or `ocicred status`.
func TestECRThroughDaemon(t *testing.T) {
	t.Parallel()
	Need(t, needs(ecrTools, []string{"crane"})...)
	s := newECRScenario(t, awsfake.WithTokenLifetime(ecrLifetime))
	s.HelperWithoutFallback(t) // answers below come from the daemon
	started := time.Now()      // the first fetch is later: no refresh before started+earliestRefresh
	d := StartDaemon(t, s.Env)
	// A slow machine may reach the first refresh before the checks that
	// count on one token: they then check what still holds.
	noRefreshYet := func() bool { return time.Since(started) < earliestRefresh }

	first := s.assertValidToken(t)
	s.assertCranePulls(t)
	s.assertCranePulls(t)
	if again := s.assertValidToken(t); again.Secret != first.Secret && noRefreshYet() {
		t.Errorf("the helper answered another token before any refresh was due")
	}
	s.assertOpenRegistry(t)
	switch n := s.awsCalls(); {
	case noRefreshYet() && n != 1:
		t.Errorf("%d GetAuthorizationToken calls for the start and every pull, want exactly 1", n)
	case n > 2:
		t.Errorf("%d GetAuthorizationToken calls in %s (past the earliest refresh), want at most 2",
			n, time.Since(started).Round(time.Second))
	}
	rs := s.WaitStatus(t, "prod", 15*time.Second, "ready", func(r RegistryStatus) bool { return r.State == "ready" })
	assertRefreshTimes(t, rs)

	t.Run("refresh", func(t *testing.T) {
		before := rs.RefreshedAt
		s.WaitStatus(t, "prod", ecrLifetime, "refreshed", func(r RegistryStatus) bool {
			return r.State == "ready" && r.RefreshedAt != before
		})
		if n := s.awsCalls(); n != 2 {
			t.Errorf("%d GetAuthorizationToken calls after one refresh, want 2", n)
		}
		second := s.assertValidToken(t)
		if second.Secret == first.Secret {
			t.Errorf("after the refresh the helper still answers the first token")
		}
		s.assertCranePulls(t)
	})

	t.Run("first token expired", func(t *testing.T) {
		waitFor(t, ecrLifetime+10*time.Second-time.Since(started), "the first token to expire", func() bool {
			return !s.ecr.Fake.ValidToken(first.Username, first.Secret)
		})
		if now := s.assertValidToken(t); now.Secret == first.Secret {
			t.Errorf("the helper answered the expired first token")
		}
		s.assertCranePulls(t)
	})

	t.Run("status", func(t *testing.T) {
		st, r := s.Status(t)
		s.LogRun(t, r, 0, s.Bin.Ocicred, "status", "--json")
		s.assertNoSecrets(t, "ocicred status", r.Output())
		if open, ok := st.Registry("open"); !ok || open.State != "anonymous" || open.Type != "ecr" {
			t.Errorf("status of the unprotected registry: %+v, want type ecr, state anonymous", open)
		}
	})

	d.Stop(t)
	s.assertNoSecrets(t, "the daemon log", d.Log())

	t.Run("daemon stopped", func(t *testing.T) {
		s.Helper = s.Bin.Helper // with ocicred beside it: the fallback can run
		if conn, err := net.DialTimeout("unix", s.Socket, time.Second); err == nil {
			_ = conn.Close()
			t.Fatalf("something still accepts on %s", s.Socket)
		}
		n := s.awsCalls()
		s.assertValidToken(t)
		if got := s.awsCalls(); got != n+1 {
			// The cache keeps tokens with 5 min left; these last 30 s.
			t.Errorf("the daemon-less helper made %d GetAuthorizationToken calls, want 1", got-n)
		}
		s.assertCranePulls(t)
		s.assertOpenRegistry(t)
	})
}

// TestECRWithoutDaemonCachesToken: without a daemon, `ocicred get
// --no-daemon` (run by the helper) fetches one token, caches it in
// OCICRED_CACHE_DIR (0600), and answers every later pull from the cache.
func TestECRWithoutDaemonCachesToken(t *testing.T) {
	t.Parallel()
	Need(t, needs(ecrTools, []string{"crane"})...)
	s := newECRScenario(t) // 12 h tokens, as on ECR
	first := s.assertValidToken(t)
	s.assertCranePulls(t)
	if again := s.assertValidToken(t); again.Secret != first.Secret {
		t.Errorf("the second answer is another token: the cache was not used")
	}
	if n := s.awsCalls(); n != 1 {
		t.Errorf("%d GetAuthorizationToken calls for three daemon-less answers, want 1 (then the cache)", n)
	}
	entries, err := os.ReadDir(s.cacheDir)
	if err != nil {
		t.Fatalf("token cache: %v", err)
	}
	if len(entries) != 1 {
		t.Fatalf("token cache holds %d files, want 1", len(entries))
	}
	fi, err := entries[0].Info()
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("cached token %s has mode %v, want 0600", fi.Name(), fi.Mode().Perm())
	}
	if di, err := os.Stat(s.cacheDir); err != nil || di.Mode().Perm() != 0o700 {
		t.Errorf("token cache folder: %v, mode %v, want 0700", err, di.Mode().Perm())
	}
}

// TestECRAccessDenied: when AWS refuses the daemon's identity, `ocicred
// status` says error and names AccessDenied, and the helper prints one line
// naming the registry and the reason (exit 1), not the not-found text that
// would send clients on anonymously. Without the daemon, the same.
func TestECRAccessDenied(t *testing.T) {
	t.Parallel()
	Need(t, needs(ecrTools, []string{"crane"})...)
	s := newECRScenario(t)
	s.ecr.Fake.Inject(awsfake.AccessDenied, awsfake.ECRGetAuthorizationToken, awsfake.Forever)
	s.HelperWithoutFallback(t)
	d := StartDaemon(t, s.Env)
	rs := s.WaitStatus(t, "prod", 15*time.Second, "in error", func(r RegistryStatus) bool { return r.State != "pending" })
	if rs.State != "error" || !strings.Contains(rs.LastError, "AccessDenied") {
		t.Errorf("status: state %q lastError %q, want state error and a lastError naming AccessDenied", rs.State, rs.LastError)
	}
	s.assertHelperRefuses(t)
	if _, pull, _ := s.CranePull(t, s.ref); pull.Err == nil || !strings.Contains(pull.Output(), "registry prod") {
		t.Errorf("crane pull: exit %d, want a failure that passes on the helper's reason", pull.ExitCode)
	}
	s.assertOpenRegistry(t)
	d.Stop(t)
	s.assertNoSecrets(t, "the daemon log", d.Log())

	t.Run("daemon stopped", func(t *testing.T) {
		s.Helper = s.Bin.Helper
		s.assertHelperRefuses(t)
	})
}

// assertValidToken checks that the helper answers Username AWS and a token
// that the fake issued and that has not expired.
func (s *ecrScenario) assertValidToken(t *testing.T) HelperAnswer {
	t.Helper()
	a, r := s.HelperGet(t, s.ecr.Host)
	switch {
	case r.Err != nil:
		t.Fatalf("helper get %s: exit %d, want credentials", s.ecr.Host, r.ExitCode)
	case a.Username != "AWS" || a.ServerURL != s.ecr.Host:
		t.Errorf("helper answered ServerURL %q Username %q, want %q and AWS", a.ServerURL, a.Username, s.ecr.Host)
	case !s.ecr.Fake.ValidToken(a.Username, a.Secret):
		t.Errorf("helper answered a token that the fake did not issue or that has expired")
	}
	return a
}

// assertHelperRefuses checks the "managed, no usable credentials" answer.
func (s *ecrScenario) assertHelperRefuses(t *testing.T) {
	t.Helper()
	_, r := s.HelperGet(t, s.ecr.Host)
	line := strings.TrimSuffix(r.Stdout, "\n")
	switch {
	case r.ExitCode != 1:
		t.Errorf("helper get: exit %d, want 1", r.ExitCode)
	case line == notFound:
		t.Errorf("helper get: the not-found text, want the registry and the reason")
	case strings.Contains(line, "\n") || !strings.HasPrefix(line, "registry prod: ") || !strings.Contains(line, "AccessDenied"):
		t.Errorf("helper get: stdout %q, want one line \"registry prod: …AccessDenied…\"", line)
	}
}

// assertOpenRegistry: the unprotected registry gets docker's not-found, so
// crane goes on anonymously and pulls.
func (s *ecrScenario) assertOpenRegistry(t *testing.T) {
	t.Helper()
	if _, r := s.HelperGet(t, s.ecr.Upstream.Host); !isNotFound(r) {
		t.Errorf("helper get for the unprotected registry: exit %d stdout %q, want exit 1 %q", r.ExitCode, r.Stdout, notFound)
	}
	digest, pull, manifest := s.CranePull(t, s.openRef)
	if pull.Err != nil || manifest.Err != nil || digest != s.digest {
		t.Errorf("anonymous crane pull from the unprotected registry: pull %v, manifest %v, digest %s (pushed %s)",
			pull.Err, manifest.Err, digest, s.digest)
	}
}

func (s *ecrScenario) assertCranePulls(t *testing.T) {
	t.Helper()
	digest, pull, manifest := s.CranePull(t, s.ref)
	if pull.Err != nil || manifest.Err != nil {
		t.Fatalf("crane through the helper: pull %v, manifest %v", pull.Err, manifest.Err)
	}
	if digest != s.digest {
		t.Errorf("crane manifest has digest %s, pushed %s", digest, s.digest)
	}
}

// assertNoSecrets checks text for the secret key and every token the helper
// handed out, raw and as the base64 "AWS:token" that ECR and Basic auth use.
func (s *ecrScenario) assertNoSecrets(t *testing.T, where, text string) {
	t.Helper()
	for _, sec := range s.Secrets {
		if sec == "" {
			continue
		}
		b64 := base64.StdEncoding.EncodeToString([]byte("AWS:" + sec))
		if strings.Contains(text, sec) || strings.Contains(text, b64) {
			what := "a registry token"
			if sec == s.secretKey {
				what = "the AWS secret key"
			}
			t.Errorf("%s contains %s", where, what)
		}
	}
}

// assertRefreshTimes checks status times against the spec: the token lasts
// the fake's lifetime and the next refresh is due after about half of it.
func assertRefreshTimes(t *testing.T, rs RegistryStatus) {
	t.Helper()
	expires, refreshed, next := rs.Times()
	if refreshed.IsZero() || expires.IsZero() || next.IsZero() {
		t.Fatalf("status times: expiresAt %q refreshedAt %q nextRefreshAt %q, want all three", rs.ExpiresAt, rs.RefreshedAt, rs.NextRefreshAt)
	}
	// RFC 3339 in whole seconds: allow a second either way.
	if life := expires.Sub(refreshed); life < ecrLifetime-2*time.Second || life > ecrLifetime+time.Second {
		t.Errorf("status: expiresAt - refreshedAt = %s, want about %s", life, ecrLifetime)
	}
	if wait := next.Sub(refreshed); wait < earliestRefresh-time.Second || wait > latestRefresh+time.Second {
		t.Errorf("status: nextRefreshAt - refreshedAt = %s, want %s to %s", wait, earliestRefresh, latestRefresh)
	}
}

// waitFor polls cond every 100 ms until it holds, or fails after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", timeout.Round(time.Second), what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
