package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/daemon"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/secret"
)

// Fleet is a config of many protected ECR registries spread over a few AWS
// identities (access keys) and regions.
type Fleet struct {
	Registries, Identities int
	Regions                []string
}

// DefaultFleet is the fleet BENCHMARKS.md reports: 1,000 registries over
// 10 identities × 3 regions.
var DefaultFleet = Fleet{Registries: 1000, Identities: 10, Regions: []string{"us-west-2", "eu-central-1", "ap-southeast-2"}}

// Pairs is the number of (identity, region) pairs, the most tokens the
// fleet needs.
func (f Fleet) Pairs() int { return min(f.Registries, f.Identities*len(f.Regions)) }

// accessKeyID is identity i's access key id.
func accessKeyID(i int) string { return fmt.Sprintf("AKIABENCH%011d", i) }

// benchSecretKey is the secret key of every benchmark identity; awsfake
// is told of it, as it verifies every signature.
const benchSecretKey = "bench-secret-key"

// Config renders the fleet as an ocicred config. Registry i is account
// 100000000000+i in region i/Identities mod len(Regions), signed by
// identity i mod Identities: the first Pairs registries cover every pair.
// The secret key is inline (write the file 0600).
func (f Fleet) Config() string {
	var b strings.Builder
	b.WriteString("registries:\n")
	for i := range f.Registries {
		region := f.Regions[(i/f.Identities)%len(f.Regions)]
		fmt.Fprintf(&b, "  - name: reg-%04d\n    type: ecr\n    endpoint: %d.dkr.ecr.%s.amazonaws.com\n"+
			"    credentials: {type: secret, accessKeyId: %s, secretAccessKey: %s}\n",
			i, 100000000000+i, region, accessKeyID(i%f.Identities), benchSecretKey)
	}
	return b.String()
}

// RefreshResult is what the daemon's token loops did on the simulated clock.
type RefreshResult struct {
	Fleet     Fleet
	Lifetime  time.Duration // of every token
	Simulated time.Duration
	Loops     int // refresh loops the daemon ran (one per pair, if it shares)
	// StartCalls were made at start; SteadyCalls from one lifetime on.
	StartCalls, SteadyCalls int
	SteadyPerHour           float64
	// MinGap is the shortest time between two calls for one pair: above
	// 40% of the lifetime, every call was a refresh of its own.
	MinGap time.Duration
	// PerPairMax is the most calls one pair made over the whole run.
	PerPairMax int
}

// SimulateRefresh runs the daemon in-process (package daemon, the code
// `ocicred daemon` runs) on the fleet's config with a counting fetcher
// that issues tokens of the given lifetime, and moves a simulated clock
// from one refresh to the next for the given span. dir holds the config
// and the socket (keep its path short).
func SimulateRefresh(ctx context.Context, dir string, fleet Fleet, lifetime, span time.Duration) (RefreshResult, error) {
	cfgPath := filepath.Join(dir, "fleet.yaml")
	if err := os.WriteFile(cfgPath, []byte(fleet.Config()), 0o600); err != nil {
		return RefreshResult{}, err
	}
	clock := newSimClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	aws := &countingAWS{clock: clock, lifetime: lifetime, calls: map[string][]time.Time{}}
	ready := make(chan struct{})
	d := daemon.New(daemon.Options{
		ConfigPath: cfgPath, Socket: filepath.Join(dir, "sim.sock"),
		Logger: slog.New(slog.DiscardHandler), Fetch: aws.fetch, Clock: clock,
		Notify: func(s string) {
			if s == "READY=1" {
				close(ready)
			}
		},
	})
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	select {
	case <-ready:
	case err := <-done:
		return RefreshResult{}, fmt.Errorf("daemon: %w", err)
	case <-time.After(30 * time.Second):
		return RefreshResult{}, fmt.Errorf("daemon not ready in 30 s")
	}

	// However many loops the daemon runs, each fetches once and sleeps.
	loops, err := clock.settle(ctx, aws.total)
	if err != nil {
		return RefreshResult{}, fmt.Errorf("first fetches: %w", err)
	}
	start := clock.Now()
	for {
		next, ok := clock.next()
		if !ok || next.Sub(start) > span {
			break
		}
		clock.advanceTo(next)
		if err := clock.waitSleepers(ctx, loops); err != nil {
			return RefreshResult{}, fmt.Errorf("at %s: %w", next.Sub(start), err)
		}
	}
	return aws.result(fleet, lifetime, span, start, loops), nil
}

// countingAWS stands in for GetAuthorizationToken: it counts calls per
// (access key id, region) and issues tokens on the simulated clock.
type countingAWS struct {
	clock    interface{ Now() time.Time }
	lifetime time.Duration

	mu    sync.Mutex
	calls map[string][]time.Time
}

func (a *countingAWS) fetch(_ context.Context, reg *config.Registry) (creds.Token, error) {
	now := a.clock.Now()
	a.mu.Lock()
	key := reg.Credentials.AccessKeyID + "/" + reg.ECR.Region
	a.calls[key] = append(a.calls[key], now)
	n := len(a.calls[key])
	a.mu.Unlock()
	return creds.Token{Password: secret.New(fmt.Sprintf("token-%s-%d", key, n)), ExpiresAt: now.Add(a.lifetime)}, nil
}

func (a *countingAWS) total() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, times := range a.calls {
		n += len(times)
	}
	return n
}

func (a *countingAWS) result(fleet Fleet, lifetime, span time.Duration, start time.Time, loops int) RefreshResult {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := RefreshResult{Fleet: fleet, Lifetime: lifetime, Simulated: span, Loops: loops, MinGap: span}
	for _, times := range a.calls {
		r.PerPairMax = max(r.PerPairMax, len(times))
		for i, tm := range times {
			switch {
			case tm.Equal(start):
				r.StartCalls++
			case tm.Sub(start) >= lifetime:
				r.SteadyCalls++
			}
			if i > 0 {
				r.MinGap = min(r.MinGap, tm.Sub(times[i-1]))
			}
		}
	}
	r.SteadyPerHour = float64(r.SteadyCalls) / (span - lifetime).Hours()
	return r
}

// simClock is daemon.Clock on simulated time: After's channels fire only
// when advanceTo passes their deadline.
type simClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []simTimer
}

type simTimer struct {
	at time.Time
	ch chan time.Time
}

func newSimClock(now time.Time) *simClock { return &simClock{now: now} }

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *simClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.timers = append(c.timers, simTimer{at: c.now.Add(d), ch: ch})
	return ch
}

// next is the earliest pending deadline.
func (c *simClock) next() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.timers) == 0 {
		return time.Time{}, false
	}
	return slices.MinFunc(c.timers, func(a, b simTimer) int { return a.at.Compare(b.at) }).at, true
}

// advanceTo moves the clock to t and fires every timer due by then.
func (c *simClock) advanceTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	kept := c.timers[:0]
	for _, tm := range c.timers {
		if tm.at.After(t) {
			kept = append(kept, tm)
			continue
		}
		tm.ch <- t
	}
	c.timers = kept
}

func (c *simClock) sleepers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// settle waits (in real time) until as many loops sleep on the clock as
// fetches were made, and that stays so for 100 ms, and returns that number:
// the loops the daemon started, each after its first fetch.
func (c *simClock) settle(ctx context.Context, fetches func() int) (int, error) {
	deadline := time.Now().Add(30 * time.Second)
	n, since := -1, time.Now()
	for {
		switch s := c.sleepers(); {
		case s == 0 || s != fetches():
			n = -1
		case s != n:
			n, since = s, time.Now()
		case time.Since(since) >= 100*time.Millisecond:
			return n, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%d loops asleep after %d fetches, not settled in 30 s", c.sleepers(), fetches())
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		time.Sleep(time.Millisecond)
	}
}

// waitSleepers waits (in real time) until n loops sleep on the clock: the
// ones woken last have fetched and gone back to sleep.
func (c *simClock) waitSleepers(ctx context.Context, n int) error {
	deadline := time.Now().Add(10 * time.Second)
	for c.sleepers() < n {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d loops asleep after 10 s, want %d", c.sleepers(), n)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		time.Sleep(50 * time.Microsecond)
	}
	return nil
}
