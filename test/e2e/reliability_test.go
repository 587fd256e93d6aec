package e2e

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocicred/ocicred/test/awsfake"
)

// The fault cases of docs/reliability.md that need the real binaries:
// the daemon killed with SIGKILL and restarted while AWS hangs or refuses,
// AWS hanging from the start, and the socket file deleted under a running
// daemon. The AWS side is awsfake alone: a helper's answer is checked
// against the tokens the fake issued, no registry is needed.

const (
	relECRHost   = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
	relBasicHost = "basic.example:5000"
	relKeyID     = "AKIAIOSFODNN7RELIABL"
	relSecretEnv = "OCICRED_REL_SK"
)

// relScenario is a sandbox whose config has the Basic registry "local"
// (inline password; the file is 0600) and the protected ECR registry
// "prod" (secret-key credentials, the key in the daemon's environment),
// with awsfake as AWS.
type relScenario struct {
	*Env
	fake     *awsfake.Server
	password string
	isolated string // a helper that cannot answer without the daemon
}

func newRelScenario(t *testing.T, opts ...awsfake.Option) *relScenario {
	t.Helper()
	fake := awsfake.Start(t, opts...)
	env := NewEnv(t, BuildBinaries(t))
	s := &relScenario{Env: env, fake: fake, password: Secret("basic")}
	secretKey := Secret("aws-secret-key")
	env.Secrets = append(env.Secrets, secretKey, s.password)
	fake.AddKey(relKeyID, secretKey)
	env.Extra = append(fake.Env(), relSecretEnv+"="+secretKey)
	writeFile(t, env.Config, "registries:\n"+
		"  - {name: local, type: basic, endpoint: "+relBasicHost+", username: alice, password: "+s.password+"}\n"+
		"  - name: prod\n    type: ecr\n    endpoint: "+relECRHost+"\n"+
		"    credentials: {type: secret, accessKeyId: "+relKeyID+", secretAccessKeyEnv: "+relSecretEnv+"}\n")
	env.HelperWithoutFallback(t)
	s.isolated = env.Helper
	return s
}

func (s *relScenario) ecrCalls() int { return s.fake.CallCount(awsfake.ECRGetAuthorizationToken) }

// assertToken checks the helper's answer for prod: want, or (want empty)
// any valid token of the fake.
func (s *relScenario) assertToken(t *testing.T, want string) HelperAnswer {
	t.Helper()
	a, r := s.HelperGet(t, relECRHost)
	switch {
	case r.Err != nil:
		t.Fatalf("helper get %s: exit %d, want a token", relECRHost, r.ExitCode)
	case a.Username != "AWS" || !s.fake.ValidToken(a.Username, a.Secret):
		t.Errorf("helper answered user %q and a token the fake did not issue or that expired", a.Username)
	case want != "" && a.Secret != want:
		t.Errorf("helper answered another token than the one from before the crash")
	}
	return a
}

func (s *relScenario) assertBasic(t *testing.T) {
	t.Helper()
	if a, r := s.HelperGet(t, relBasicHost); r.Err != nil || a.Username != "alice" || a.Secret != s.password {
		t.Errorf("helper get %s: exit %d, want alice and the password", relBasicHost, r.ExitCode)
	}
}

// TestKillNineRestartFromState: the daemon is killed with SIGKILL (its
// socket file stays behind). The helper keeps answering through its
// fallback, the ECR token from the state folder the daemon shares with it.
// The daemon restarted while AWS hangs, then while AWS refuses, serves the
// token it had at once and says ready, without a single AWS call.
func TestKillNineRestartFromState(t *testing.T) {
	t.Parallel()
	Need(t)
	s := newRelScenario(t)
	d := StartDaemon(t, s.Env)
	first := s.assertToken(t, "")
	s.assertBasic(t)
	if n := s.ecrCalls(); n != 1 {
		t.Fatalf("%d GetAuthorizationToken calls at start, want 1", n)
	}
	stateDir := filepath.Join(s.Root, "token-cache") // OCICRED_CACHE_DIR
	assertPrivateFiles(t, stateDir)
	d.Kill(t)
	assertNoSecret(t, "the daemon log", d.Log(), first.Secret)
	if _, err := os.Lstat(s.Socket); err != nil {
		t.Fatalf("after SIGKILL the socket file should stay behind: %v", err)
	}

	t.Run("helper falls back", func(t *testing.T) {
		s.Helper = s.Bin.Helper
		defer func() { s.Helper = s.isolated }()
		s.assertToken(t, first.Secret)
		s.assertBasic(t)
		if n := s.ecrCalls(); n != 1 {
			t.Errorf("%d GetAuthorizationToken calls, want still 1: the fallback reads the daemon's state", n)
		}
	})

	for _, fault := range []awsfake.Fault{awsfake.Hang, awsfake.AccessDenied} {
		t.Run("restart while AWS answers "+fault.String(), func(t *testing.T) {
			s.fake.ClearFaults()
			s.fake.Inject(fault, awsfake.AnyAction, awsfake.Forever)
			d := StartDaemon(t, s.Env)
			start := time.Now()
			s.assertToken(t, first.Secret) // the isolated helper: the daemon answered
			t.Logf("first answer after the restart in %s", time.Since(start).Round(time.Millisecond))
			s.assertBasic(t)
			st, r := s.Status(t)
			rs, _ := st.Registry("prod")
			s.LogRun(t, r, 0, s.Bin.Ocicred, "status", "--json")
			if rs.State != "ready" || rs.LastError != "" || rs.ExpiresAt == "" {
				t.Errorf("status after the restart: %+v, want ready from the state folder", rs)
			}
			if n := s.ecrCalls(); n != 1 {
				t.Errorf("%d GetAuthorizationToken calls, want still 1: the restart must not wait on AWS", n)
			}
			d.Kill(t)
			assertNoSecret(t, "the daemon log", d.Log(), first.Secret)
		})
	}
	assertPrivateFiles(t, stateDir)
}

// assertPrivateFiles checks that dir is 0700 and holds only 0600 files.
func assertPrivateFiles(t *testing.T, dir string) {
	t.Helper()
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("state folder %s: %v, want mode 0700", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("state folder %s: %d files, %v", dir, len(entries), err)
	}
	for _, e := range entries {
		if fi, err := e.Info(); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("state file %s: mode %v, want 0600", e.Name(), fi.Mode().Perm())
		}
	}
}

// TestAWSHangAtStart: AWS never answers. Through the daemon, a request for
// a registry still waiting for its first token (the helper's, the kubelet
// plugin's) is answered after FirstTokenWait (10 s) with the line naming
// the registry; status says pending. Without the daemon, `ocicred get` gives
// up on AWS itself. No client waits for AWS: each answer says it gave up
// ("first token not there yet" is only said while the daemon's call still
// hangs; "AWS did not answer" is the client's own deadline). How long each
// took is logged, not asserted: a client that waited for ever would be
// killed by Run's two-minute guard and fail on its exit status.
func TestAWSHangAtStart(t *testing.T) {
	t.Parallel()
	Need(t)
	s := newRelScenario(t)
	s.fake.Inject(awsfake.Hang, awsfake.AnyAction, awsfake.Forever)
	d := StartDaemon(t, s.Env)

	daemonless := make(chan func(), 1)
	go func() {
		start := time.Now()
		r := s.RunQuiet("", s.Bin.Ocicred, "get", "--no-daemon", relECRHost)
		took := time.Since(start)
		daemonless <- func() {
			s.LogRun(t, r, took, s.Bin.Ocicred, "get", "--no-daemon", relECRHost)
			line := strings.TrimSpace(r.Stdout)
			if r.ExitCode != 1 || !strings.HasPrefix(line, "registry prod: ") || !strings.Contains(line, "AWS did not answer") {
				t.Errorf("ocicred get --no-daemon with AWS hung: exit %d stdout %q, want one line naming prod and the timeout", r.ExitCode, line)
			}
		}
	}()

	kubelet := make(chan func(), 1)
	go func() {
		start := time.Now()
		r := s.RunQuiet(kubeletRequest(relECRHost+"/team/app:v1"), s.Bin.Ocicred, "kubelet-credential-provider")
		took := time.Since(start)
		kubelet <- func() {
			s.LogRun(t, r, took, s.Bin.Ocicred, "kubelet-credential-provider")
			if r.ExitCode != 1 || !strings.Contains(r.Stderr, "registry prod: first token not there yet") {
				t.Errorf("kubelet plugin with AWS hung: exit %d, want 1 and the reason naming prod", r.ExitCode)
			}
		}
	}()

	_, r := s.HelperGet(t, relECRHost) // logs how long it took
	line := strings.TrimSpace(r.Stdout)
	if r.ExitCode != 1 || !strings.HasPrefix(line, "registry prod: first token not there yet") {
		t.Errorf("helper get with AWS hung: exit %d stdout %q, want the line naming prod", r.ExitCode, line)
	}
	s.assertBasic(t) // other registries do not wait
	st, sr := s.Status(t)
	if rs, _ := st.Registry("prod"); sr.Err != nil || rs.State != "pending" {
		t.Errorf("status with AWS hung: %+v (exit %d), want pending", rs, sr.ExitCode)
	}
	(<-kubelet)()
	(<-daemonless)()
	d.Stop(t) // a fetch still hangs: the daemon must stop all the same
}

// TestSocketDeletedRealDaemon: the socket file deleted under the running
// daemon (a careless cleanup of /run). The helper keeps answering through
// its fallback meanwhile; the daemon listens again within its 5 s check.
func TestSocketDeletedRealDaemon(t *testing.T) {
	t.Parallel()
	Need(t)
	s := newRelScenario(t)
	d := StartDaemon(t, s.Env)
	s.assertBasic(t)
	if err := os.Remove(s.Socket); err != nil {
		t.Fatal(err)
	}
	deleted := time.Now()
	s.Helper = s.Bin.Helper
	s.assertBasic(t) // the fallback
	s.Helper = s.isolated
	waitFor(t, time.Minute, "the socket to come back", func() bool { // checked every 5 s
		c, err := net.DialTimeout("unix", s.Socket, time.Second)
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	})
	t.Logf("listening again %s after the deletion", time.Since(deleted).Round(100*time.Millisecond))
	s.assertBasic(t)
	s.assertToken(t, "")
	if fi, err := os.Stat(s.Socket); err != nil || fi.Mode().Perm() != 0o660 {
		t.Errorf("socket after the deletion: %v, want mode 0660", err)
	}
	d.WaitLog(t, "listening again", func(line string) bool {
		return strings.Contains(line, "socket file was deleted; listening again")
	})
}
