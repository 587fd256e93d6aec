package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/localapi"
	"github.com/ocicred/ocicred/internal/secret"
	"github.com/ocicred/ocicred/internal/tokencache"
)

// fakeClock is moved by hand; After's channels fire when Advance passes
// their deadline. Each After is an event tests wait for: a loop going to
// sleep.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	sleeps  int           // After calls so far
	changed chan struct{} // closed, and replaced, at every After
}

type waiter struct {
	at time.Time
	d  time.Duration
	ch chan time.Time
}

func newFakeClock() *fakeClock { return newFakeClockAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) }

func newFakeClockAt(now time.Time) *fakeClock {
	return &fakeClock{now: now, changed: make(chan struct{})}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, waiter{at: c.now.Add(d), d: d, ch: ch})
	c.sleeps++
	close(c.changed)
	c.changed = make(chan struct{})
	return ch
}

// Advance moves time and fires every waiter that is due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

// waitSleepers waits until n loops sleep on the clock and returns their
// sleep lengths.
func (c *fakeClock) waitSleepers(t *testing.T, n int) []time.Duration {
	t.Helper()
	c.await(t, fmt.Sprintf("%d loops asleep", n), func() bool { return len(c.waiters) >= n })
	c.mu.Lock()
	defer c.mu.Unlock()
	ds := make([]time.Duration, len(c.waiters))
	for i, w := range c.waiters {
		ds[i] = w.d
	}
	return ds
}

// nextSleep returns a wait for the next After from now on: a loop that
// is awake (or about to be woken) going back to sleep, its work done.
func (c *fakeClock) nextSleep() func(t *testing.T) {
	c.mu.Lock()
	want := c.sleeps + 1
	c.mu.Unlock()
	return func(t *testing.T) {
		t.Helper()
		c.await(t, "a loop going to sleep", func() bool { return c.sleeps >= want })
	}
}

// advanceToLatest moves the clock to the deadline of the latest sleep still
// pending. In a test with one token loop that is the loop's own: an
// earlier sleeper is one that a request's kick cut short.
func (c *fakeClock) advanceToLatest() {
	c.mu.Lock()
	if len(c.waiters) == 0 {
		c.mu.Unlock()
		return
	}
	d := max(c.waiters[len(c.waiters)-1].at.Sub(c.now), 0)
	c.mu.Unlock()
	c.Advance(d)
}

// await waits, After by After, until cond holds (called with c.mu held).
func (c *fakeClock) await(t *testing.T, what string, cond func() bool) {
	t.Helper()
	guard := time.NewTimer(eventGuard)
	defer guard.Stop()
	for {
		c.mu.Lock()
		ok, changed := cond(), c.changed
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-guard.C:
			t.Fatalf("fake clock: not %s after %s", what, eventGuard)
		}
	}
}

// fakeAWS issues tokens on the fake clock and counts calls per identity.
type fakeAWS struct {
	clock *fakeClock
	life  time.Duration
	mu    sync.Mutex
	calls map[string]int // by access key id + region
	fail  error
	gate  chan struct{} // when set, fetches wait for it
	n     int
}

func (f *fakeAWS) fetch(ctx context.Context, reg *config.Registry) (creds.Token, error) {
	f.mu.Lock()
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return creds.Token{}, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[reg.Credentials.AccessKeyID+"/"+reg.ECR.Region]++
	if f.fail != nil {
		return creds.Token{}, f.fail
	}
	f.n++
	return creds.Token{Password: secret.New(fmt.Sprintf("token-%d", f.n)), ExpiresAt: f.clock.Now().Add(f.life)}, nil
}

func (f *fakeAWS) setFail(err error) { f.mu.Lock(); f.fail = err; f.mu.Unlock() }

func (f *fakeAWS) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		n += c
	}
	return n
}

func ecrRegistry(name, account, region, akid string) string {
	return fmt.Sprintf("  - name: %s\n    type: ecr\n    endpoint: %s.dkr.ecr.%s.amazonaws.com\n    credentials: {type: secret, accessKeyId: %s, secretAccessKey: sk-%s}\n",
		name, account, region, akid, akid)
}

func parse(t *testing.T, body string) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(body), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newTestStore(t *testing.T) (*tokenStore, *fakeClock, *fakeAWS) {
	clock := newFakeClock()
	aws := &fakeAWS{clock: clock, life: 12 * time.Hour, calls: map[string]int{}}
	s := newTokenStore(aws.fetch, clock, slog.New(slog.DiscardHandler))
	t.Cleanup(s.close)
	return s, clock, aws
}

func TestOneFetchPerIdentityAndRegion(t *testing.T) {
	s, clock, aws := newTestStore(t)
	cfg := parse(t, "registries:\n"+
		ecrRegistry("a", "111111111111", "us-west-2", "AKIAAAAAAAAAAAAAAAAA")+
		ecrRegistry("b", "222222222222", "us-west-2", "AKIAAAAAAAAAAAAAAAAA")+ // same identity and region as a
		ecrRegistry("c", "111111111111", "eu-west-1", "AKIAAAAAAAAAAAAAAAAA")+ // another region
		ecrRegistry("d", "333333333333", "us-west-2", "AKIABBBBBBBBBBBBBBBB")) // another identity
	s.sync(cfg)
	clock.waitSleepers(t, 3)
	if got := aws.total(); got != 3 {
		t.Errorf("%d calls at start, want 3 (one per identity and region): %v", got, aws.calls)
	}
	ta, err := s.Token(context.Background(), cfg.Registries[0])
	if err != nil {
		t.Fatal(err)
	}
	tb, err := s.Token(context.Background(), cfg.Registries[1])
	if err != nil || tb.Password.Reveal() != ta.Password.Reveal() {
		t.Errorf("registries sharing an identity got different tokens: %v", err)
	}
}

func TestRefreshAtHalfLifeAndBackoff(t *testing.T) {
	s, clock, aws := newTestStore(t)
	ev := newEvents()
	hookRefreshes(s, ev)
	cfg := parse(t, "registries:\n"+ecrRegistry("a", "111111111111", "us-west-2", "AKIAAAAAAAAAAAAAAAAA"))
	reg := cfg.Registries[0]
	s.sync(cfg)
	wait := clock.waitSleepers(t, 1)[0]
	if wait < 4*time.Hour+48*time.Minute || wait > 7*time.Hour+12*time.Minute {
		t.Errorf("first refresh in %v, want 12h × (0.5 ± 0.1)", wait)
	}
	first, _ := s.Token(context.Background(), reg)

	// AWS goes down: the refresh fails, and is retried after 1s, 2s, 4s, …
	// up to 5 min, each ±20%, while the last good token keeps serving.
	aws.setFail(errors.New("ServiceUnavailable"))
	clock.Advance(wait)
	for i := range 12 {
		w := clock.waitSleepers(t, 1)[0]
		want := min(time.Second<<i, BackoffMax)
		if w < time.Duration(float64(want)*0.8) || w > time.Duration(float64(want)*1.2) {
			t.Errorf("wait after failure %d = %v, want %v ±20%%", i+1, w, want)
		}
		got, err := s.Token(context.Background(), reg)
		if err != nil || got.Password.Reveal() != first.Password.Reveal() {
			t.Fatalf("during the outage: %v, %v; want the last good token", got.Password, err)
		}
		clock.Advance(w)
	}
	var rs localapi.RegistryStatus
	s.status(reg, &rs)
	if rs.State != localapi.StateReady || rs.LastError != "ServiceUnavailable" || rs.ExpiresAt != "2026-01-01T12:00:00Z" {
		t.Errorf("status during the outage = %+v", rs)
	}

	clock.waitSleepers(t, 1) // the last failure is recorded

	// Past expiry the token is never served; status says error. The
	// request kicks the loop, which tries AWS (still down) once more.
	clock.Advance(first.ExpiresAt.Sub(clock.Now()))
	clock.waitSleepers(t, 1)
	kicked := clock.nextSleep()
	if _, err := s.Token(context.Background(), reg); err == nil || !strings.Contains(err.Error(), "token expired at") {
		t.Errorf("after expiry: %v, want a token-expired error", err)
	}
	kicked(t)
	s.status(reg, &rs)
	if rs.State != localapi.StateError {
		t.Errorf("status after expiry = %+v", rs)
	}

	// AWS comes back: the next retry fetches a new token.
	recovered := ev.next(refreshed("a"))
	aws.setFail(nil)
	clock.advanceToLatest()
	recovered(t)
	if got, err := s.Token(context.Background(), reg); err != nil || got.Password.Reveal() == first.Password.Reveal() {
		t.Errorf("after recovery: %v, %v; want a new token", got.Password, err)
	}
	s.status(reg, &rs)
	if rs.State != localapi.StateReady || rs.LastError != "" || rs.NextRefreshAt == "" || rs.RefreshedAt == "" {
		t.Errorf("status after recovery = %+v", rs)
	}
}

func TestFirstTokenWait(t *testing.T) {
	s, clock, aws := newTestStore(t)
	aws.gate = make(chan struct{})
	cfg := parse(t, "registries:\n"+ecrRegistry("a", "111111111111", "us-west-2", "AKIAAAAAAAAAAAAAAAAA"))
	s.sync(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Token(ctx, cfg.Registries[0]); err == nil || !strings.Contains(err.Error(), "first token not there yet") {
		t.Errorf("before the first token: %v", err)
	}
	var rs localapi.RegistryStatus
	s.status(cfg.Registries[0], &rs)
	if rs.State != localapi.StatePending {
		t.Errorf("state before the first token = %s", rs.State)
	}
	got := make(chan error, 1)
	go func() {
		_, err := s.Token(context.Background(), cfg.Registries[0])
		got <- err
	}()
	close(aws.gate)
	if err := <-got; err != nil {
		t.Errorf("a waiting request: %v", err)
	}
	clock.waitSleepers(t, 1)
}

func TestSyncKeepsLoopsOfUnchangedIdentities(t *testing.T) {
	s, clock, aws := newTestStore(t)
	a := ecrRegistry("a", "111111111111", "us-west-2", "AKIAAAAAAAAAAAAAAAAA")
	s.sync(parse(t, "registries:\n"+a+ecrRegistry("b", "111111111111", "eu-west-1", "AKIAAAAAAAAAAAAAAAAA")))
	clock.waitSleepers(t, 2)
	cfg2 := parse(t, "registries:\n"+a+ecrRegistry("c", "111111111111", "ap-south-1", "AKIAAAAAAAAAAAAAAAAA"))
	s.sync(cfg2)
	clock.waitSleepers(t, 3) // b's sleeper stays in the fake clock's list though its loop is gone
	if got := aws.total(); got != 3 {
		t.Errorf("%d calls, want 3: a kept its loop, c started one", got)
	}
	if _, err := s.Token(context.Background(), parse(t, "registries:\n"+ecrRegistry("b", "111111111111", "eu-west-1", "AKIAAAAAAAAAAAAAAAAA")).Registries[0]); err == nil {
		t.Error("a removed identity still answers")
	}
	if len(s.entries) != 2 {
		t.Errorf("%d loops, want 2", len(s.entries))
	}
}

// The daemon answers ECR registries from the store: Username AWS, the
// token as the secret, status with times.
func TestDaemonServesECR(t *testing.T) {
	clock := newFakeClock()
	aws := &fakeAWS{clock: clock, life: 12 * time.Hour, calls: map[string]int{}}
	td := startDaemon(t, "registries:\n"+ecrRegistry("prod", "123456789012", "us-west-2", "AKIAAAAAAAAAAAAAAAAA")+
		"  - {name: pub, type: ecr, endpoint: public.ecr.aws, protected: false}\n", func(o *Options) {
		o.Fetch, o.Clock = aws.fetch, clock
	})
	got, err := td.client.Credentials(context.Background(), "123456789012.dkr.ecr.us-west-2.amazonaws.com")
	if err != nil || got.Username != "AWS" || got.Secret != "token-1" || got.Registry != "prod" {
		t.Errorf("Credentials = %+v, %v", got, err)
	}
	st, err := td.client.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r := st.Registries[0]; r.State != "ready" || r.ExpiresAt != "2026-01-01T12:00:00Z" || r.RefreshedAt != "2026-01-01T00:00:00Z" || r.NextRefreshAt == "" {
		t.Errorf("status = %+v", r)
	}
	if strings.Contains(td.logs.String(), "token-1") || strings.Contains(td.logs.String(), "sk-AKIA") {
		t.Error("a secret reached the log")
	}
}

// Jump moves the wall clock without waking sleepers, as a suspended
// machine or a stepped clock does (Go's timers run on the monotonic clock).
func (c *fakeClock) Jump(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for i := range c.waiters {
		c.waiters[i].at = c.waiters[i].at.Add(d)
	}
}

func TestExpiredTokenWakesTheLoop(t *testing.T) {
	s, clock, aws := newTestStore(t)
	ev := newEvents()
	hookRefreshes(s, ev)
	cfg := parse(t, "registries:\n"+ecrRegistry("a", "111111111111", "us-west-2", "AKIAAAAAAAAAAAAAAAAA"))
	reg := cfg.Registries[0]
	s.sync(cfg)
	clock.waitSleepers(t, 1)
	first, _ := s.Token(context.Background(), reg)
	clock.Jump(13 * time.Hour) // past expiry; the loop still sleeps
	kicked := ev.next(refreshed("a"))
	if _, err := s.Token(context.Background(), reg); err == nil || !strings.Contains(err.Error(), "token expired at") {
		t.Fatalf("after the jump: %v, want an expired-token error (never the old token)", err)
	}
	kicked(t) // only the request's kick can wake the loop: the clock did not fire
	if got, err := s.Token(context.Background(), reg); err != nil || got.Password.Reveal() == first.Password.Reveal() {
		t.Errorf("after the kicked refresh: %v, %v; want a new token", got.Password, err)
	}
	if n := aws.total(); n != 2 {
		t.Errorf("%d AWS calls, want 2", n)
	}
}

func TestRestartServesCachedTokenWithoutAWS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	clock := newFakeClock()
	aws := &fakeAWS{clock: clock, life: 12 * time.Hour, calls: map[string]int{}}
	cfg := parse(t, "registries:\n"+ecrRegistry("a", "111111111111", "us-west-2", "AKIAAAAAAAAAAAAAAAAA"))
	reg := cfg.Registries[0]

	before := newTokenStore(aws.fetch, clock, slog.New(slog.DiscardHandler))
	before.cache = tokencache.New(dir, clock.Now)
	before.sync(cfg)
	clock.waitSleepers(t, 1)
	tok, _ := before.Token(context.Background(), reg)
	before.close() // the daemon is killed

	clock.Advance(2 * time.Hour)
	aws.setFail(errors.New("AWS is down"))
	after := newTokenStore(aws.fetch, clock, slog.New(slog.DiscardHandler))
	after.cache = tokencache.New(dir, clock.Now)
	t.Cleanup(after.close)
	after.sync(cfg)
	got, err := after.Token(context.Background(), reg)
	if err != nil || got.Password.Reveal() != tok.Password.Reveal() {
		t.Fatalf("after restart: %v, %v; want the cached token", got.Password, err)
	}
	if n := aws.total(); n != 1 {
		t.Errorf("%d AWS calls, want 1: the restart must not wait on AWS", n)
	}
	waits := clock.waitSleepers(t, 2) // the old loop's sleeper stays in the fake's list
	if w := waits[len(waits)-1]; w < 4*time.Hour || w > 6*time.Hour {
		t.Errorf("refresh of the cached token in %v, want about half of its 10h left", w)
	}
}

// Reload is prepare → swap → retire: after prepare for the next config, a
// request still on the previous one gets its token (its loop has not been
// stopped), and only retire stops the loops no one uses.
func TestPrepareKeepsRemovedIdentitiesUntilRetire(t *testing.T) {
	s, clock, _ := newTestStore(t)
	old := parse(t, "registries:\n"+ecrRegistry("b", "111111111111", "eu-west-1", "AKIAAAAAAAAAAAAAAAAA"))
	next := parse(t, "registries:\n"+ecrRegistry("c", "111111111111", "ap-south-1", "AKIAAAAAAAAAAAAAAAAA"))
	s.sync(old)
	clock.waitSleepers(t, 1)
	s.prepare(next)
	clock.waitSleepers(t, 2)
	if _, err := s.Token(context.Background(), old.Registries[0]); err != nil {
		t.Errorf("between prepare and retire, the old config's registry: %v", err)
	}
	if _, err := s.Token(context.Background(), next.Registries[0]); err != nil {
		t.Errorf("after prepare, the new config's registry: %v", err)
	}
	s.retire(next)
	if _, err := s.Token(context.Background(), old.Registries[0]); err == nil {
		t.Error("after retire, the removed identity still answers")
	}
	if len(s.entries) != 1 {
		t.Errorf("%d loops after retire, want 1", len(s.entries))
	}
}

// An account's two names, ACCOUNT.dkr.ecr.REGION.amazonaws.com and the
// dual-stack ACCOUNT.dkr-ecr.REGION.on.aws, with the same credentials are
// one identity: one GetAuthorizationToken, made for the dual-stack name
// (so through the dual-stack API endpoint), serves both.
func TestDualStackNameSharesTheIdentity(t *testing.T) {
	clock := newFakeClock()
	var mu sync.Mutex
	var fetchedFor []*config.Registry
	aws := &fakeAWS{clock: clock, life: 12 * time.Hour, calls: map[string]int{}}
	s := newTokenStore(func(ctx context.Context, reg *config.Registry) (creds.Token, error) {
		mu.Lock()
		fetchedFor = append(fetchedFor, reg)
		mu.Unlock()
		return aws.fetch(ctx, reg)
	}, clock, slog.New(slog.DiscardHandler))
	t.Cleanup(s.close)
	cfg := parse(t, "registries:\n"+ecrRegistry("v4", "111111111111", "us-west-2", "AKIAAAAAAAAAAAAAAAAA")+
		"  - name: v6\n    type: ecr\n    endpoint: 111111111111.dkr-ecr.us-west-2.on.aws\n    credentials: {type: secret, accessKeyId: AKIAAAAAAAAAAAAAAAAA, secretAccessKey: sk-AKIAAAAAAAAAAAAAAAAA}\n")
	s.sync(cfg)
	clock.waitSleepers(t, 1)
	if got := aws.total(); got != 1 {
		t.Errorf("%d GetAuthorizationToken calls for one account's two names, want 1", got)
	}
	mu.Lock()
	if len(fetchedFor) != 1 || !fetchedFor[0].ECR.DualStack {
		t.Errorf("the call was not made for the dual-stack name: %d calls", len(fetchedFor))
	}
	mu.Unlock()
	a, errA := s.Token(context.Background(), cfg.Registries[0])
	b, errB := s.Token(context.Background(), cfg.Registries[1])
	if errA != nil || errB != nil || a.Password.Reveal() != b.Password.Reveal() {
		t.Errorf("the two names got different tokens: %v, %v", errA, errB)
	}
}

// status is what state.status shows of reg's token fields.
func (s *tokenStore) status(reg *config.Registry, rs *localapi.RegistryStatus) {
	tokenStatus(s.snapshot().ids[s.keyOf(reg)], s.clock.Now(), rs)
}
