package daemon

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/tokensource"
)

// eventGuard bounds every wait for an event: it turns an event that never
// comes into a failure rather than a hung test. It is no deadline the
// daemon must meet, so it is far longer than anything takes.
const eventGuard = time.Minute

// Messages the daemon logs, waited for as events.
const (
	msgReloaded  = "config reloaded"
	msgRefused   = "config refused; still serving the previous one"
	msgRelistens = "socket file was deleted; listening again"
)

// events counts what happens in a daemon under test (each log message, each
// token refresh) and wakes whoever waits for one: tests wait for these
// instead of sleeping or polling.
type events struct {
	mu      sync.Mutex
	counts  map[string]int
	times   map[string][]time.Time
	changed chan struct{} // closed, and replaced, at every event
}

func newEvents() *events {
	return &events{counts: map[string]int{}, times: map[string][]time.Time{}, changed: make(chan struct{})}
}

// add records one event of kind, now.
func (e *events) add(kind string) { e.addAt(kind, time.Now()) }

// addAt records one event of kind that happened at when.
func (e *events) addAt(kind string, when time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.counts[kind]++
	e.times[kind] = append(e.times[kind], when)
	close(e.changed)
	e.changed = make(chan struct{})
}

// timesOf is when each event of kind happened, in order.
func (e *events) timesOf(kind string) []time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]time.Time(nil), e.times[kind]...)
}

// count is how many events of kind happened so far.
func (e *events) count(kind string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts[kind]
}

// next returns a wait for the next event of kind from now on: take it
// before doing what causes the event, call it after.
func (e *events) next(kind string) func(t *testing.T) { return e.nextN(kind, 1) }

// nextN is next for n more events of kind.
func (e *events) nextN(kind string, n int) func(t *testing.T) {
	want := e.count(kind) + n
	return func(t *testing.T) {
		t.Helper()
		e.await(t, kind, want)
	}
}

// await waits until n events of kind have happened in all.
func (e *events) await(t *testing.T, kind string, n int) {
	t.Helper()
	guard := time.NewTimer(eventGuard)
	defer guard.Stop()
	for {
		e.mu.Lock()
		got, changed := e.counts[kind], e.changed
		e.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-changed:
		case <-guard.C:
			t.Fatalf("%q: %d of %d events after %s", kind, got, n, eventGuard)
		}
	}
}

// logEvents passes every record on to the next handler, then counts its
// message as an event, at the record's time (when the daemon made the log
// call): once a wait for "config reloaded" returns, the line is in the log
// and what the daemon did before logging it is done.
type logEvents struct {
	next slog.Handler
	ev   *events
}

func (h logEvents) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h logEvents) Handle(ctx context.Context, r slog.Record) error {
	err := h.next.Handle(ctx, r)
	h.ev.addAt(r.Message, r.Time)
	return err
}

func (h logEvents) WithAttrs(as []slog.Attr) slog.Handler {
	return logEvents{h.next.WithAttrs(as), h.ev}
}

func (h logEvents) WithGroup(name string) slog.Handler {
	return logEvents{h.next.WithGroup(name), h.ev}
}

// Kinds of the token store's events, per registry name.
func refreshed(name string) string     { return "refreshed " + name }
func refreshFailed(name string) string { return "refresh failed " + name }
func refreshDone(name string) string   { return "refresh " + name } // either

// hookRefreshes makes the store tell ev about each refresh, after what the
// store already does then (the daemon's containerd sink and metrics): once
// a wait for refreshed("prod") returns, prod's hosts.toml is written.
func hookRefreshes(s *tokenStore, ev *events) {
	orig := s.onRefresh
	s.onRefresh = func(key tokensource.Key, names []string, tok creds.Token, err error) {
		if orig != nil {
			orig(key, names, tok, err)
		}
		for _, n := range names {
			if err == nil {
				ev.add(refreshed(n))
			} else {
				ev.add(refreshFailed(n))
			}
			ev.add(refreshDone(n))
		}
	}
}
