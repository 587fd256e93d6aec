package e2e

import (
	"context"
	"encoding/base64"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocicred/ocicred/internal/cachedir"
	"github.com/ocicred/ocicred/test/awsfake"
)

const (
	// ecrLifetime is the fake's token lifetime in the refresh test: the
	// daemon refreshes after half of it, give or take a tenth (spec).
	ecrLifetime = 30 * time.Second
	// refreshLow and refreshHigh bound when the daemon refreshes, as
	// fractions of what is left of a token's life.
	refreshLow, refreshHigh = 0.4, 0.6

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
	image     Image  // what was pushed
	digest    string // its manifest digest
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
	s.image = ecr.PushImage(t, repo, tag)
	s.digest = s.image.Manifest
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

// ecrCalls are the fake's GetAuthorizationToken calls so far, in order.
func (s *ecrScenario) ecrCalls() []awsfake.Call {
	var calls []awsfake.Call
	for _, c := range s.ecr.Fake.Calls() {
		if c.Service == "ecr" && c.Action == "GetAuthorizationToken" {
			calls = append(calls, c)
		}
	}
	return calls
}

// TestECRThroughDaemon: the daemon fetches one token at start and serves it
// to every pull however many there are: with ECR's 12 h tokens no refresh
// can fall within the test, so the count is exact whatever the pulls take.
// The unprotected registry gets the not-found answer and anonymous pulls.
// No token nor the secret key reaches the daemon's log or `ocicred status`.
// (The refresh: TestECRRefresh.)
func TestECRThroughDaemon(t *testing.T) {
	t.Parallel()
	Need(t, needs(ecrTools, []string{"crane"})...)
	s := newECRScenario(t)     // 12 h tokens, as on ECR
	s.HelperWithoutFallback(t) // answers below come from the daemon
	d := StartDaemon(t, s.Env)

	first := s.assertValidToken(t)
	s.assertCranePulls(t)
	s.assertCranePulls(t)
	if again := s.assertValidToken(t); again.Secret != first.Secret {
		t.Errorf("the helper answered another token, hours before any refresh is due")
	}
	s.assertOpenRegistry(t)
	if n := s.awsCalls(); n != 1 {
		t.Errorf("%d GetAuthorizationToken calls for the start and every pull, want exactly 1", n)
	}
	rs := s.WaitStatus(t, "prod", time.Minute, "ready", func(r RegistryStatus) bool { return r.State == "ready" })
	assertRefreshTimes(t, rs, awsfake.DefaultTokenLifetime)

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
}

// TestECRRefresh: with 30 s tokens the daemon refreshes after about half a
// lifetime with one more call, the new token works, and once the first
// token has expired pulls still work (an expired token is never served).
// Every wait is for what the daemon does (its call reaching AWS, its
// status), never for a stretch of time, and no count spans a window whose
// length depends on how fast the pulls ran. With the daemon stopped, the
// helper works a token out itself, with one call (the cache keeps no token
// that has less than 5 min left).
func TestECRRefresh(t *testing.T) {
	t.Parallel()
	Need(t, needs(ecrTools, []string{"crane"})...)
	s := newECRScenario(t, awsfake.WithTokenLifetime(ecrLifetime))
	s.HelperWithoutFallback(t) // answers below come from the daemon
	d := StartDaemon(t, s.Env)
	first := s.assertValidToken(t)
	// 1, or more on a machine that took past the first refresh to get
	// here: the refresh below is the call after the one that made first.
	n := s.awsCalls()
	rs := s.WaitStatus(t, "prod", time.Minute, "ready", func(r RegistryStatus) bool { return r.State == "ready" })
	assertRefreshTimes(t, rs, ecrLifetime)

	t.Run("refresh", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*ecrLifetime) // a guard: the refresh is due in 12 to 18 s
		defer cancel()
		if err := s.ecr.Fake.WaitCalls(ctx, awsfake.ECRGetAuthorizationToken, n+1); err != nil {
			t.Fatalf("no refresh: %v", err)
		}
		calls := s.ecrCalls()
		refresh := calls[n]
		if refresh.ErrorCode != "" {
			t.Errorf("the refresh's GetAuthorizationToken answered %s, want a token", refresh.ErrorCode)
		}
		t.Logf("the refresh called AWS %s after the call before it", refresh.Time.Sub(calls[n-1].Time).Round(100*time.Millisecond))
		now := s.WaitStatus(t, "prod", time.Minute, "refreshed", func(r RegistryStatus) bool {
			_, refreshed, _ := r.Times()
			return r.State == "ready" && !refreshed.Before(refresh.Time.Truncate(time.Second))
		})
		assertRefreshTimes(t, now, ecrLifetime)
		second := s.assertValidToken(t)
		if second.Secret == first.Secret {
			t.Errorf("after the refresh the helper still answers the first token")
		}
		s.assertCranePulls(t)
	})

	t.Run("first token expired", func(t *testing.T) {
		// Polled: the wait is for time itself to pass (a guard well past
		// the token's life).
		waitFor(t, 2*ecrLifetime+time.Minute, "the first token to expire", func() bool {
			return !s.ecr.Fake.ValidToken(first.Username, first.Secret)
		})
		if now := s.assertValidToken(t); now.Secret == first.Secret {
			t.Errorf("the helper answered the expired first token")
		}
		s.assertCranePulls(t)
	})

	d.Stop(t)
	s.assertNoSecrets(t, "the daemon log", d.Log())

	t.Run("daemon stopped", func(t *testing.T) {
		s.Helper = s.Bin.Helper // with ocicred beside it: the fallback can run
		if conn, err := net.DialTimeout("unix", s.Socket, time.Second); err == nil {
			_ = conn.Close()
			t.Fatalf("something still accepts on %s", s.Socket)
		}
		n := s.awsCalls() // nothing else calls AWS now: the count is exact
		s.assertValidToken(t)
		if got := s.awsCalls(); got != n+1 {
			t.Errorf("the daemon-less helper made %d GetAuthorizationToken calls, want 1", got-n)
		}
		s.assertCranePulls(t)
		s.assertOpenRegistry(t)
	})
}

// TestECRWithoutDaemonCachesToken: without a daemon, `ocicred get
// --no-daemon` (run by the helper) fetches one token, caches it in
// OCICRED_CACHE_DIR (0600), and answers every later pull from the cache:
// through the cache's index, without running `ocicred get` (OCICRED_DEBUG
// says so).
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
	// One token file, and the index through which the helper answered
	// the later pulls without running `ocicred get`.
	entries, err := os.ReadDir(s.cacheDir)
	if err != nil {
		t.Fatalf("token cache: %v", err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("cache file %s has mode %v, want 0600", fi.Name(), fi.Mode().Perm())
		}
	}
	if len(names) != 2 || names[0] != cachedir.IndexName || !strings.HasPrefix(names[1], "ecr-") {
		t.Fatalf("token cache holds %q, want %s and one ecr- token file", names, cachedir.IndexName)
	}
	debug := *s.Env
	debug.Extra = append(append([]string{}, s.Extra...), "OCICRED_DEBUG=1")
	if _, r := debug.HelperGet(t, s.ecr.Host); r.Err != nil || !strings.Contains(r.Stderr, "registry prod, token from the cache through the index (ocicred get not run)") {
		t.Errorf("helper get with OCICRED_DEBUG=1: exit %d, stderr %q; want it to say the index answered", r.ExitCode, r.Stderr)
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
	if _, pull := s.CranePull(t, s.ref, s.image); pull.Err == nil || !strings.Contains(pull.Output(), "registry prod") {
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
	digest, pull := s.CranePull(t, s.openRef, s.image)
	if pull.Err != nil || digest != s.digest {
		t.Errorf("anonymous crane pull from the unprotected registry: %v, digest %s (pushed %s)", pull.Err, digest, s.digest)
	}
}

func (s *ecrScenario) assertCranePulls(t *testing.T) {
	t.Helper()
	digest, pull := s.CranePull(t, s.ref, s.image)
	if pull.Err != nil {
		t.Fatalf("crane through the helper: %v", pull.Err)
	}
	if digest != s.digest {
		t.Errorf("crane wrote manifest %s, pushed %s", digest, s.digest)
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

// assertRefreshTimes checks status times against the spec: the token
// lasts at most the fake's lifetime (less by the time the answer took to
// arrive), and the next refresh is due after 40 to 60 % of what was left
// of it when it came. Both are the daemon's own figures, not a measure of
// how fast anything ran.
func assertRefreshTimes(t *testing.T, rs RegistryStatus, lifetime time.Duration) {
	t.Helper()
	expires, refreshed, next := rs.Times()
	if refreshed.IsZero() || expires.IsZero() || next.IsZero() {
		t.Fatalf("status times: expiresAt %q refreshedAt %q nextRefreshAt %q, want all three", rs.ExpiresAt, rs.RefreshedAt, rs.NextRefreshAt)
	}
	// RFC 3339 in whole seconds: allow a second either way.
	life := expires.Sub(refreshed)
	if life <= 0 || life > lifetime+time.Second {
		t.Errorf("status: expiresAt - refreshedAt = %s, want more than 0 and at most %s", life, lifetime)
	}
	lo := time.Duration(float64(life)*refreshLow) - time.Second
	hi := time.Duration(float64(life)*refreshHigh) + time.Second
	if wait := next.Sub(refreshed); wait < lo || wait > hi {
		t.Errorf("status: nextRefreshAt - refreshedAt = %s, want %s to %s (40 to 60%% of %s left)", wait, lo, hi, life)
	}
}

// waitFor polls cond every 100 ms until it holds, or fails after timeout.
// It is the last resort, for what only another process or the passing of
// time can change; timeout is a guard, far past what the wait should take.
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
