package daemon

// Fault cases of docs/reliability.md that run the daemon in this process:
// AWS failing in each way the SDK reports while a good token is cached
// (through the real SDK and awsfake), AWS hanging, the config file deleted
// and re-created or replaced 50 times in a second, and the containerd hosts
// folder full. The cases that need the real binaries (SIGKILL and restart,
// other users, the config unreadable to a non-root daemon) are in
// test/e2e.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/containerdhosts"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/ecrtoken"
	"github.com/ocicred/ocicred/internal/localapi"
	"github.com/ocicred/ocicred/test/awsfake"
	"github.com/ocicred/ocicred/test/testenv"
)

const (
	fltHost      = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
	fltKeyID     = "AKIAOCICREDFAULTS001"
	fltSecretEnv = "OCICRED_FLT_SK"
	fltSecretKey = "sk-faults-test-must-not-leak"
	fltRole      = "arn:aws:iam::210987654321:role/ecr-pull"
)

// fltRegistry is the protected ECR registry "prod" with secret-key or
// STS credentials, its secret key in fltSecretEnv.
func fltRegistry(credType string) string {
	c := "{type: secret, accessKeyId: " + fltKeyID + ", secretAccessKeyEnv: " + fltSecretEnv + "}"
	if credType == "sts" {
		c = "{type: sts, roleArn: \"" + fltRole + "\", externalId: ext-1, accessKeyId: " + fltKeyID +
			", secretAccessKeyEnv: " + fltSecretEnv + "}"
	}
	return "  - name: prod\n    type: ecr\n    endpoint: " + fltHost + "\n    credentials: " + c + "\n"
}

// fltClock is a fake clock that starts at the real time: the SDK keeps an
// STS session by the real clock, so a session the fake issues "now" must
// look fresh to it.
func fltClock() *fakeClock { return newFakeClockAt(time.Now().UTC().Truncate(time.Second)) }

// fltStart runs awsfake on clock, knowing fltKeyID's secret, and a daemon
// on cfg whose token loops use the real AWS SDK against it.
func fltStart(t *testing.T, clock *fakeClock, cfg string) (*testDaemon, *awsfake.Server) {
	t.Helper()
	fake := awsfake.Start(t, awsfake.WithNow(clock.Now), awsfake.WithKey(fltKeyID, fltSecretKey))
	fake.Setenv(t)
	t.Setenv(fltSecretEnv, fltSecretKey)
	td := startDaemon(t, cfg, func(o *Options) { o.Clock = clock })
	return td, fake
}

// fltSteps bounds fltDrive: no case needs more than three refreshes.
const fltSteps = 10

// fltDrive runs the one token loop refresh by refresh until check passes:
// each step moves the fake clock to the loop's wake-up and waits until the
// loop sleeps again, its fetch answered (the SDK's own retries of 5xx
// answers sleep on the real clock, so a step may take seconds). It fails
// after fltSteps refreshes.
func fltDrive(t *testing.T, clock *fakeClock, what string, check func() error) {
	t.Helper()
	for i := 0; ; i++ {
		err := check()
		if err == nil {
			return
		}
		if i == fltSteps {
			t.Fatalf("%s: still %v after %d refreshes", what, err, i)
		}
		slept := clock.nextSleep()
		clock.advanceToLatest()
		slept(t)
	}
}

func fltStatus(t *testing.T, td *testDaemon, name string) localapi.RegistryStatus {
	t.Helper()
	st, err := td.client.Status(context.Background())
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	for _, r := range st.Registries {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("status has no registry %s: %+v", name, st)
	return localapi.RegistryStatus{}
}

// TestAWSFaultsWhileTokenGood: whatever AWS answers a refresh with (5xx,
// throttling of both kinds, access denied, expired keys; on ECR or on STS
// while the cached ECR token is still good), the daemon keeps serving the
// last good token, shows the reason in status, and recovers at the next
// retry once AWS does. With expire set the cached token then runs out while
// AWS still fails: it is never served, and the answer names the registry and
// the reason.
func TestAWSFaultsWhileTokenGood(t *testing.T) {
	inject := func(f awsfake.Fault, action string) func(*awsfake.Server) {
		return func(s *awsfake.Server) { s.Inject(f, action, awsfake.Forever) }
	}
	// The SDK keeps an STS session for its hour: the next ECR call is
	// refused as expired, which makes ocicred drop the session and assume
	// the role again, and that is where STS fails.
	viaSTS := func(f awsfake.Fault) func(*awsfake.Server) {
		return func(s *awsfake.Server) {
			s.Inject(awsfake.ExpiredCredentials, awsfake.ECRGetAuthorizationToken, 1)
			s.Inject(f, awsfake.STSAssumeRole, awsfake.Forever)
		}
	}
	tests := []struct {
		name   string
		creds  string
		inject func(*awsfake.Server)
		want   string // in status lastError, and in the answer once the token expired
		expire bool
	}{
		{"ECR 500", "secret", inject(awsfake.ServerError, awsfake.ECRGetAuthorizationToken),
			"ECR GetAuthorizationToken: ServerException", false},
		{"ECR 503", "secret", inject(awsfake.ServiceUnavailable, awsfake.ECRGetAuthorizationToken),
			"ECR GetAuthorizationToken: ServiceUnavailable", false},
		{"ECR ThrottlingException", "secret", inject(awsfake.Throttling, awsfake.ECRGetAuthorizationToken),
			"ECR GetAuthorizationToken: ThrottlingException", false},
		{"ECR ThrottleException", "secret", inject(awsfake.ThrottleException, awsfake.ECRGetAuthorizationToken),
			"ECR GetAuthorizationToken: ThrottleException", false},
		{"ECR access denied", "secret", inject(awsfake.AccessDenied, awsfake.ECRGetAuthorizationToken),
			"ECR GetAuthorizationToken: AccessDeniedException", true},
		{"ECR expired keys", "secret", inject(awsfake.ExpiredCredentials, awsfake.ECRGetAuthorizationToken),
			"ECR GetAuthorizationToken: ExpiredTokenException", false},
		{"STS access denied", "sts", viaSTS(awsfake.AccessDenied), "STS AssumeRole: AccessDenied", true},
		{"STS base keys expired", "sts", viaSTS(awsfake.ExpiredCredentials), "STS AssumeRole: ExpiredTokenException", false},
		{"STS 500", "sts", viaSTS(awsfake.ServerError), "STS AssumeRole: InternalFailure", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := fltClock()
			td, fake := fltStart(t, clock, "registries:\n"+fltRegistry(tt.creds))
			ctx := context.Background()
			clock.waitSleepers(t, 1)
			first, err := td.client.Credentials(ctx, fltHost)
			if err != nil || !fake.ValidToken(first.Username, first.Secret) {
				t.Fatalf("first token: %v", err)
			}

			tt.inject(fake)
			fltDrive(t, clock, "the failed refresh shows in status", func() error {
				if rs := fltStatus(t, td, "prod"); !strings.Contains(rs.LastError, tt.want) {
					return fmt.Errorf("lastError %q, want %q", rs.LastError, tt.want)
				}
				return nil
			})
			rs := fltStatus(t, td, "prod")
			if rs.State != localapi.StateReady || rs.ExpiresAt != first.ExpiresAt.UTC().Format(time.RFC3339) {
				t.Errorf("status during the outage: %+v, want ready with the first token's expiry", rs)
			}
			got, err := td.client.Credentials(ctx, fltHost)
			if err != nil || got.Secret != first.Secret {
				t.Errorf("during the outage: %v; want the cached token, still good", err)
			}
			fltNoSecret(t, "status lastError", rs.LastError, first.Secret)

			if tt.expire {
				clock.Advance(first.ExpiresAt.Sub(clock.Now()) + time.Second)
				fltDrive(t, clock, "the expired token is refused with the reason", func() error {
					_, err := td.client.Credentials(ctx, fltHost)
					if err == nil {
						return errors.New("an expired token was served")
					}
					if msg := err.Error(); !strings.HasPrefix(msg, "registry prod: token expired at ") || !strings.Contains(msg, tt.want) {
						return fmt.Errorf("answer %q, want the registry, the expiry and %q", msg, tt.want)
					}
					return nil
				})
				if rs := fltStatus(t, td, "prod"); rs.State != localapi.StateError {
					t.Errorf("status once expired: %+v, want error", rs)
				}
			}

			fake.ClearFaults()
			fltDrive(t, clock, "recovery once AWS answers", func() error {
				got, err := td.client.Credentials(ctx, fltHost)
				if err != nil || got.Secret == first.Secret || !fake.ValidToken(got.Username, got.Secret) {
					return fmt.Errorf("answer %v; want a new valid token", err)
				}
				return nil
			})
			if rs := fltStatus(t, td, "prod"); rs.State != localapi.StateReady || rs.LastError != "" {
				t.Errorf("status after recovery: %+v", rs)
			}
			fltNoSecret(t, "the daemon log", td.logs.String(), first.Secret)
		})
	}
}

// fltNoSecret fails when text holds the AWS secret key or one of secrets.
func fltNoSecret(t *testing.T, where, text string, secrets ...string) {
	t.Helper()
	for _, s := range append(secrets, fltSecretKey) {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s holds a secret (%d bytes)", where, len(s))
		}
	}
}

// TestAWSHangServesCachedToken: a refresh that AWS never answers does not
// hold up a single request (they get the cached token while the call still
// hangs), nor status, nor the daemon's shutdown (it cuts the call rather
// than wait for its 30 s bound). (A hung first fetch is answered after
// FirstTokenWait: test/e2e TestAWSHangAtStart. The 30 s bound of each
// AWS call: internal/ecrtoken TestHangCutByContext.)
func TestAWSHangServesCachedToken(t *testing.T) {
	clock := fltClock()
	fake := awsfake.Start(t, awsfake.WithNow(clock.Now), awsfake.WithKey(fltKeyID, fltSecretKey))
	fake.Setenv(t)
	t.Setenv(fltSecretEnv, fltSecretKey)
	// The real fetcher, watched: was the hung fetch still waiting on
	// AWS when the daemon's shutdown cancelled it?
	var cutByShutdown []bool
	var mu sync.Mutex
	real := ecrtoken.NewFetcher()
	td := startDaemon(t, "registries:\n"+fltRegistry("secret"), func(o *Options) {
		o.Clock = clock
		o.Fetch = func(ctx context.Context, reg *config.Registry) (creds.Token, error) {
			tok, err := real.Fetch(ctx, reg)
			mu.Lock()
			cutByShutdown = append(cutByShutdown, errors.Is(ctx.Err(), context.Canceled))
			mu.Unlock()
			return tok, err
		}
	})
	ctx := context.Background()
	clock.waitSleepers(t, 1)
	first, err := td.client.Credentials(ctx, fltHost)
	if err != nil {
		t.Fatal(err)
	}
	fake.Inject(awsfake.Hang, awsfake.ECRGetAuthorizationToken, awsfake.Forever)
	clock.advanceToLatest()
	if err := fake.WaitCalls(t.Context(), awsfake.ECRGetAuthorizationToken, 2); err != nil {
		t.Fatalf("the refresh does not reach AWS: %v", err)
	}
	for range 20 {
		got, err := td.client.Credentials(ctx, fltHost)
		if err != nil || got.Secret != first.Secret {
			t.Fatalf("while the refresh hangs: %v; want the cached token", err)
		}
	}
	if rs := fltStatus(t, td, "prod"); rs.State != localapi.StateReady {
		t.Errorf("status while the refresh hangs: %+v", rs)
	}
	// An answer that waited on the call could only have come once it had
	// ended (at its 30 s bound): it still hangs, so none did.
	if n := fake.Hanging(); n != 1 {
		t.Errorf("%d AWS calls hang after the answers, want the refresh's 1: an answer waited on it", n)
	}

	start := time.Now()
	td.stop()
	select {
	case err := <-td.stopped:
		td.stopped <- err // for startDaemon's cleanup, which checks it
	case <-time.After(eventGuard):
		t.Fatalf("the daemon did not stop in %s while an AWS call hung", eventGuard)
	}
	t.Logf("shutdown with a hung AWS call took %s", time.Since(start).Round(time.Millisecond))
	mu.Lock()
	defer mu.Unlock()
	// Run waits for its loops: the hung fetch has returned, and it must
	// have been the shutdown that ended it, not the call's own timeout.
	if len(cutByShutdown) != 2 || !cutByShutdown[1] {
		t.Errorf("fetches %v (true: cut by the shutdown), want the second, hung one cut by the shutdown", cutByShutdown)
	}
}

// TestConfigDeletedAndRecreated: deleting the config file is a refused
// reload (status says why; the old config keeps serving), and creating it
// again applies it.
func TestConfigDeletedAndRecreated(t *testing.T) {
	td := startDaemon(t, "registries:\n"+basicConfig("a", "a.example", "pw-a"))
	ctx := context.Background()
	refused := td.ev.next(msgRefused)
	if err := os.Remove(td.config); err != nil {
		t.Fatal(err)
	}
	refused(t)
	if st, err := td.client.Status(ctx); err != nil || !strings.Contains(st.ConfigError, "no such file") || !strings.Contains(st.ConfigError, td.config) {
		t.Errorf("the deletion refused, but status %+v, %v", st, err)
	}
	if got, err := td.client.Credentials(ctx, "a.example"); err != nil || got.Secret != "pw-a" {
		t.Errorf("with the config deleted: %+v, %v; want the old config serving", got.Registry, err)
	}
	reloaded := td.ev.next(msgReloaded)
	writeConfig(t, td.config, "registries:\n"+basicConfig("a", "a.example", "pw-a2")+basicConfig("b", "b.example", "pw-b"))
	reloaded(t)
	if st, err := td.client.Status(ctx); err != nil || st.ConfigError != "" || len(st.Registries) != 2 {
		t.Errorf("the re-created config applied, but status %+v, %v", st, err)
	}
	if got, err := td.client.Credentials(ctx, "b.example"); err != nil || got.Secret != "pw-b" {
		t.Errorf("the re-created config applied, but b.example: %v", err)
	}
	if got, err := td.client.Credentials(ctx, "a.example"); err != nil || got.Secret != "pw-a2" {
		t.Errorf("a.example after the re-create: %v", err)
	}
}

// TestConfigReplaced50TimesInASecond: the config file is replaced (editor
// style, by rename) 50 times, in ten bursts of five renames written back
// to back, while requests run. Nothing is dropped: after each burst the
// daemon serves that burst's last version. No request fails or gets an
// answer from no version of the file, or from an older version than one it
// already saw. A rename over the config reloads at once, without waiting
// the debounce (config.TestWatchDebouncedChanges holds it for other
// changes): at least one reload per burst, at most one per version.
func TestConfigReplaced50TimesInASecond(t *testing.T) {
	const bursts, perBurst = 10, 5
	version := func(i int) string {
		body := "registries:\n" + basicConfig("a", "a.example", "pw-a") + basicConfig("ver", "ver.example", fmt.Sprintf("pw-v%02d", i))
		if i%3 == 1 { // an extra registry comes and goes
			body += basicConfig(fmt.Sprintf("extra%d", i), fmt.Sprintf("extra%d.example", i), "pw-extra")
		}
		return body
	}
	// An hour's debounce: every reload here is a rename's own, at once.
	td := startDaemon(t, version(0), func(o *Options) { o.Debounce = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	requests := 0
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(failures) < 10 {
			failures = append(failures, fmt.Sprintf(format, args...))
		} else {
			failures[9] = "… and more"
		}
	}
	for range 8 {
		wg.Go(func() {
			seen := ""
			for ctx.Err() == nil {
				a, errA := td.client.Credentials(context.Background(), "a.example")
				v, errV := td.client.Credentials(context.Background(), "ver.example")
				mu.Lock()
				requests += 2
				mu.Unlock()
				switch {
				case errA != nil || a.Secret != "pw-a":
					fail("a.example: %q, %v", a.Secret, errA)
				case errV != nil || !strings.HasPrefix(v.Secret, "pw-v") || len(v.Secret) != len("pw-v00"):
					fail("ver.example: %q, %v", v.Secret, errV)
				case v.Secret < seen:
					fail("ver.example went back from %s to %s", seen, v.Secret)
				default:
					seen = v.Secret
				}
			}
		})
	}
	start := time.Now()
	for b := range bursts {
		mark := td.ev.count(msgReloaded)
		last := (b + 1) * perBurst
		for i := b*perBurst + 1; i <= last; i++ {
			writeConfig(t, td.config, version(i))
		}
		// Reload by reload until the burst's last version is served.
		want := fmt.Sprintf("pw-v%02d", last)
		for n := mark + 1; ; n++ {
			td.ev.await(t, msgReloaded, n)
			got, err := td.client.Credentials(context.Background(), "ver.example")
			if err == nil && got.Secret == want {
				break
			}
			if n-mark >= perBurst {
				t.Fatalf("burst %d: %d reloads since it began, and ver.example answers %q, %v; want %s",
					b+1, n-mark, got.Secret, err, want)
			}
		}
	}
	took := time.Since(start)
	cancel()
	wg.Wait()

	st, err := td.client.Status(context.Background())
	if err != nil || st.ConfigError != "" || len(st.Registries) != 2 {
		t.Errorf("final status: %+v, %v; want the last version's 2 registries and no error", st, err)
	}
	times := td.ev.timesOf(msgReloaded)
	t.Logf("%d replacements in %s; %d reloads applied; %d requests", bursts*perBurst, took.Round(time.Millisecond), len(times), requests)
	if len(failures) > 0 || requests == 0 {
		t.Errorf("%d requests; failures: %v", requests, failures)
	}
	if len(times) < bursts || len(times) > bursts*perBurst {
		t.Errorf("%d reloads applied, want one per burst at least (%d) and one per version at most (%d)",
			len(times), bursts, bursts*perBurst)
	}
}

// TestContainerdHostsFolderFull: on a file system with no space left, a
// hosts.toml rewrite (a token refresh) fails: the previous file stays
// whole, no temp file is left, the error shows in status, requests go on,
// and once there is room again a reload writes the file.
func TestContainerdHostsFolderFull(t *testing.T) {
	hostsDir := filepath.Join(t.TempDir(), "certs.d")
	if err := os.MkdirAll(hostsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", hostsDir, "tmpfs", 0, "size=256k,mode=0755"); err != nil {
		testenv.Skip(t, fmt.Sprintf("cannot mount a small tmpfs to fill (needs root with CAP_SYS_ADMIN): %v", err))
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(hostsDir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", hostsDir, err)
		}
	})
	clock := newFakeClock()
	aws := &fakeAWS{clock: clock, life: 12 * time.Hour, calls: map[string]int{}}
	const ecrHost = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
	td := startDaemon(t, containerdConfig(hostsDir, basicConfig("local", "http://127.0.0.1:5000", "pw-local"),
		ecrRegistry("prod", "123456789012", "us-west-2", "AKIAAAAAAAAAAAAAAAAA")), func(o *Options) {
		o.Fetch, o.Clock = aws.fetch, clock
	})
	ctx := context.Background()
	wait := clock.waitSleepers(t, 1)[0]
	td.ev.await(t, refreshed("prod"), 1) // the first token, and its file
	if err := wantHosts(t, hostsDir, ecrHost, "token-1"); err != nil {
		t.Fatalf("hosts.toml with the first token: %v", err)
	}
	before, err := os.ReadFile(containerdhosts.Path(hostsDir, ecrHost))
	if err != nil {
		t.Fatal(err)
	}

	filler := filepath.Join(hostsDir, "filler")
	fltFill(t, filler)
	again := td.ev.next(refreshed("prod"))
	clock.Advance(wait) // the refresh: token-2, whose file cannot be written
	again(t)
	if rs := fltStatus(t, td, "prod"); !strings.Contains(rs.LastError, "containerd: cannot write") || !strings.Contains(rs.LastError, "no space left on device") {
		t.Errorf("the write failure in status: %+v", rs)
	}
	if after, err := os.ReadFile(containerdhosts.Path(hostsDir, ecrHost)); err != nil || string(after) != string(before) {
		t.Errorf("hosts.toml changed on a full disk (%v): a half-written file?", err)
	}
	if _, err := readHosts(t, hostsDir, ecrHost); err != nil {
		t.Errorf("the previous hosts.toml is no longer whole: %v", err)
	}
	noTempFiles(t, hostsDir, ecrHost)
	if got, err := td.client.Credentials(ctx, ecrHost); err != nil || got.Secret != "token-2" {
		t.Errorf("the daemon stopped serving on a full disk: %v", err)
	}
	if got, err := td.client.Credentials(ctx, "127.0.0.1:5000"); err != nil || got.Secret != "pw-local" {
		t.Errorf("basic registry on a full disk: %v", err)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	td.d.Reload("test")
	h, err := readHosts(t, hostsDir, ecrHost)
	if err != nil {
		t.Fatal(err)
	}
	if err := wantHeader(h, "https://"+ecrHost, "AWS", "token-2"); err != nil {
		t.Errorf("after room was made: %v", err)
	}
	if rs := fltStatus(t, td, "prod"); rs.LastError != "" {
		t.Errorf("status after room was made: %+v", rs)
	}
	noTempFiles(t, hostsDir, ecrHost)
}

// fltFill writes path until its file system is full.
func fltFill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill: %v", err)
			}
			return
		}
	}
}
