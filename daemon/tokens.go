package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/tokencache"
	"github.com/ocicred/ocicred/internal/tokensource"
)

// Refresh timing.
const (
	// RefreshFraction of a token's lifetime passes before it is refreshed
	// (give or take RefreshJitter of the lifetime).
	RefreshFraction = 0.5
	RefreshJitter   = 0.1
	// A failed refresh is retried after BackoffMin, doubling up to
	// BackoffMax, each wait jittered by ±20%.
	BackoffMin = time.Second
	BackoffMax = 5 * time.Minute
)

// FetchFunc gets a fresh token for a protected ECR registry.
type FetchFunc func(ctx context.Context, reg *config.Registry) (creds.Token, error)

// Clock is time as the token store sees it; tests move it by hand.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// tokenStore keeps one refresh loop per (identity, region): every
// registry whose tokensource.Key is equal shares its token and its one
// GetAuthorizationToken call.
type tokenStore struct {
	fetch FetchFunc
	clock Clock
	log   *slog.Logger
	// cache, when set, keeps each identity's token on disk, so a restarted
	// daemon serves tokens still valid without waiting on AWS.
	cache *tokencache.Cache
	// onRefresh, when set, hears about each refresh (metrics, sinks).
	onRefresh func(key tokensource.Key, names []string, tok creds.Token, err error)

	mu      sync.Mutex
	entries map[tokensource.Key]*tokenEntry
	// snap is the published state of every identity. Its writers (each
	// loop, and retire) hold mu; its readers hold nothing.
	snap atomic.Pointer[snapshot]
	// keys memoises tokensource.KeyOf (a SHA-256 over the credentials) for
	// the registries of the configs being served, so that a request or a
	// status finds its identity without hashing. prepare adds the new
	// config's, retire keeps only those; a miss (a config already
	// retired) hashes.
	keys atomic.Pointer[map[*config.Registry]tokensource.Key]
}

// tokenEntry is one identity's refresh loop: what drives it, not what it
// found (that is published in the store's snapshot).
type tokenEntry struct {
	reg    *config.Registry // the registry the loop fetches for (any of those sharing the key)
	first  chan struct{}    // closed once the first fetch has finished, well or not
	kick   chan struct{}    // refresh now: a request found the token expired
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	names []string // every registry sharing it, for logs; prepare updates it
}

// identityState is one identity's token as the engine last published it:
// never changed once published (a change publishes a new one).
type identityState struct {
	tok         creds.Token
	refreshedAt time.Time // zero: no fetch has succeeded in this run
	nextAt      time.Time
	lastErr     error
	failures    int // failed fetches in a row
}

// snapshot is every identity's state at one moment: an immutable map,
// replaced whole on every change, so that readers (requests, status,
// metrics, the sinks) take one consistent view without a lock.
type snapshot struct {
	ids map[tokensource.Key]*identityState
}

func newTokenStore(fetch FetchFunc, clock Clock, log *slog.Logger) *tokenStore {
	s := &tokenStore{fetch: fetch, clock: clock, log: log, entries: map[tokensource.Key]*tokenEntry{}}
	s.snap.Store(&snapshot{ids: map[tokensource.Key]*identityState{}})
	return s
}

// snapshot is the newest published state of every identity.
func (s *tokenStore) snapshot() *snapshot { return s.snap.Load() }

// publish sets the state of key in a new snapshot, if e is still the
// loop of key: a loop that retire has stopped publishes nothing, so it
// cannot overwrite the state of a loop started for the same key since.
func (s *tokenStore) publish(e *tokenEntry, key tokensource.Key, st *identityState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entries[key] != e {
		return
	}
	s.publishLocked(func(ids map[tokensource.Key]*identityState) { ids[key] = st })
}

// publishLocked publishes a copy of the snapshot that change has edited.
// s.mu is held.
func (s *tokenStore) publishLocked(change func(map[tokensource.Key]*identityState)) {
	old := s.snap.Load().ids
	ids := make(map[tokensource.Key]*identityState, len(old)+1)
	maps.Copy(ids, old)
	change(ids)
	s.snap.Store(&snapshot{ids: ids})
}

// state is the published state of reg's identity.
func (s *tokenStore) state(reg *config.Registry) (*identityState, bool) {
	st, ok := s.snap.Load().ids[s.keyOf(reg)]
	return st, ok
}

// keyOf is reg's identity key.
func (s *tokenStore) keyOf(reg *config.Registry) tokensource.Key {
	if m := s.keys.Load(); m != nil {
		if k, ok := (*m)[reg]; ok {
			return k
		}
	}
	return tokensource.KeyOf(reg)
}

// remember sets the memo of keyOf to want's registries, and to those it
// has already when keepOld is set.
func (s *tokenStore) remember(want map[tokensource.Key][]*config.Registry, keepOld bool) {
	m := map[*config.Registry]tokensource.Key{}
	if old := s.keys.Load(); old != nil && keepOld {
		maps.Copy(m, *old)
	}
	for k, regs := range want {
		for _, r := range regs {
			m[r] = k
		}
	}
	s.keys.Store(&m)
}

// identities groups cfg's protected registries by identity key.
func (s *tokenStore) identities(cfg *config.Config) map[tokensource.Key][]*config.Registry {
	want := map[tokensource.Key][]*config.Registry{}
	for _, r := range cfg.Registries {
		if r.IsProtected() {
			k := s.keyOf(r)
			want[k] = append(want[k], r)
		}
	}
	return want
}

// prepare starts a loop for every identity of cfg that has none, seeded
// from the state cache, and updates the names of those that stay. Loops of
// identities cfg no longer has go on until retire: a request still on the
// previous config keeps its token (reload is prepare → swap → retire). A
// reload costs no AWS call for identities that stay. The store's lock is
// never held while reading the cache.
func (s *tokenStore) prepare(cfg *config.Config) {
	type start struct {
		key   tokensource.Key
		reg   *config.Registry
		names []string
	}
	var starts []start
	want := s.identities(cfg)
	s.remember(want, true) // the old config's too: it serves until the swap
	s.mu.Lock()
	for k, regs := range want {
		names := make([]string, len(regs))
		for i, r := range regs {
			names[i] = r.Name
		}
		if e, ok := s.entries[k]; ok {
			e.mu.Lock()
			e.names = names
			e.mu.Unlock()
			continue
		}
		starts = append(starts, start{k, tokensource.Representative(regs)[0], names})
	}
	s.mu.Unlock()
	for _, st := range starts {
		seed := s.seed(st.key, st.names) // disk I/O, outside the lock
		ctx, cancel := context.WithCancel(context.Background())
		e := &tokenEntry{reg: st.reg, names: st.names, first: make(chan struct{}), kick: make(chan struct{}, 1),
			cancel: cancel, done: make(chan struct{})}
		s.mu.Lock()
		if _, raced := s.entries[st.key]; raced { // another prepare started it meanwhile
			s.mu.Unlock()
			cancel()
			continue
		}
		s.entries[st.key] = e
		s.mu.Unlock()
		go s.loop(ctx, st.key, e, seed)
	}
}

// retire stops the loops of identities cfg does not have, and waits for
// them outside the store's lock.
func (s *tokenStore) retire(cfg *config.Config) {
	want := s.identities(cfg)
	s.remember(want, false)
	var gone []*tokenEntry
	s.mu.Lock()
	for k, e := range s.entries {
		if _, ok := want[k]; !ok {
			e.cancel()
			delete(s.entries, k)
			gone = append(gone, e)
		}
	}
	if len(gone) > 0 {
		s.publishLocked(func(ids map[tokensource.Key]*identityState) {
			for k := range ids {
				if _, ok := want[k]; !ok {
					delete(ids, k)
				}
			}
		})
	}
	s.mu.Unlock()
	for _, e := range gone {
		<-e.done
		s.log.Info("token refresh stopped", "registries", e.logNames())
	}
}

// logNames is the names of the registries sharing e, for logs.
func (e *tokenEntry) logNames() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.names
}

// sync is prepare then retire, for a store no request reads yet (start)
// or that no one reads any more (close).
func (s *tokenStore) sync(cfg *config.Config) {
	s.prepare(cfg)
	s.retire(cfg)
}

// close stops every loop.
func (s *tokenStore) close() { s.retire(&config.Config{}) }

// loop fetches, then sleeps until the next refresh, until ctx is done. A
// token seeded from the cache is served at once and refreshed at about
// half its remaining life.
func (s *tokenStore) loop(ctx context.Context, key tokensource.Key, e *tokenEntry, seed creds.Token) {
	defer close(e.done)
	firstDone := false
	defer func() {
		if !firstDone {
			close(e.first) // release waiters of a loop stopped before its first answer
		}
	}()
	var wait time.Duration
	if !seed.ExpiresAt.IsZero() {
		wait = refreshAfter(seed.ExpiresAt.Sub(s.clock.Now()))
		s.publish(e, key, &identityState{tok: seed, nextAt: s.clock.Now().Add(wait)})
		close(e.first)
		firstDone = true
		s.log.Info("token from the state cache", "registries", e.logNames(), "expiresAt", seed.ExpiresAt.UTC().Format(time.RFC3339))
	}
	for {
		if wait > 0 && !s.sleep(ctx, e, wait) {
			return
		}
		tok, err := s.fetch(ctx, e.reg)
		if ctx.Err() != nil {
			return
		}
		wait = s.record(key, e, tok, err)
		select {
		case <-e.kick: // kicks that came while fetching are answered
		default:
		}
		if !firstDone {
			close(e.first)
			firstDone = true
		}
	}
}

// sleep waits d, or less when a request kicks the loop; false when ctx is
// done.
func (s *tokenStore) sleep(ctx context.Context, e *tokenEntry, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-s.clock.After(d):
	case <-e.kick:
	}
	return true
}

// seed is a token still valid from the cache for key (the registries
// sharing it are names, whose files of the old layout are migrated first);
// zero when there is none.
func (s *tokenStore) seed(key tokensource.Key, names []string) creds.Token {
	if s.cache == nil {
		return creds.Token{}
	}
	if err := s.cache.Migrate(string(key), names); err != nil {
		s.log.Warn("state cache of the old layout not migrated", "registries", names, "err", err)
	}
	tok, err := s.cache.Get(tokencache.Name(string(key)))
	if err != nil && !errors.Is(err, tokencache.ErrNoToken) {
		s.log.Warn("state cache not used; fetching a new token", "registries", names, "err", err)
	}
	return tok
}

// persist writes a fresh token to the identity's cache file.
func (s *tokenStore) persist(key tokensource.Key, names []string, tok creds.Token) {
	if s.cache == nil {
		return
	}
	if err := s.cache.Put(tokencache.Name(string(key)), tok); err != nil {
		s.log.Warn("cannot keep the token for a restart", "registries", names, "err", err)
	}
}

// record stores a fetch's outcome and returns how long to wait until the
// next one.
func (s *tokenStore) record(key tokensource.Key, e *tokenEntry, tok creds.Token, err error) time.Duration {
	now := s.clock.Now()
	if err == nil {
		// Expired on arrival: fetching again at once would loop every
		// second for good. It is a failure, backed off like any other.
		if err = creds.CheckFresh(tok, now); err != nil {
			tok = creds.Token{}
		}
	}
	prev, _ := s.snap.Load().ids[key]
	if prev == nil {
		prev = &identityState{}
	}
	next := *prev
	var wait time.Duration
	if err == nil {
		next.tok, next.refreshedAt, next.lastErr, next.failures = tok, now, nil, 0
		wait = refreshAfter(tok.ExpiresAt.Sub(now))
	} else {
		next.lastErr = err
		next.failures++
		wait = backoff(next.failures)
		// Never sleep past the current token's expiry without trying.
		if left := next.tok.ExpiresAt.Sub(now); left > 0 && wait > left {
			wait = left
		}
	}
	next.nextAt = now.Add(wait)
	s.publish(e, key, &next)
	names, failures := e.logNames(), next.failures
	lastGood := next.tok.ExpiresAt.After(now)

	if err == nil {
		s.persist(key, names, tok)
		s.log.Info("token refreshed", "registries", names, "identity", tokensource.Describe(e.reg),
			"expiresAt", tok.ExpiresAt.UTC().Format(time.RFC3339), "next", wait.Round(time.Second))
	} else {
		msg := "token refresh failed; no token to serve until one succeeds"
		if lastGood {
			msg = "token refresh failed; serving the last good token until it expires"
		}
		s.log.Warn(msg, "registries", names,
			"identity", tokensource.Describe(e.reg), "err", err, "failures", failures, "retryIn", wait.Round(time.Millisecond))
	}
	if s.onRefresh != nil {
		s.onRefresh(key, names, tok, err)
	}
	return wait
}

// cloudName names the cloud a registry type's tokens come from, for
// messages.
func cloudName(typ string) string {
	switch typ {
	case config.TypeGAR:
		return "Google"
	case config.TypeACR:
		return "Azure"
	}
	return "AWS"
}

// refreshAfter is about half a token's remaining life, jittered.
func refreshAfter(life time.Duration) time.Duration {
	if life <= 0 {
		return BackoffMin
	}
	jitter := (rand.Float64()*2 - 1) * RefreshJitter
	return max(time.Duration(float64(life)*(RefreshFraction+jitter)), BackoffMin)
}

// backoff is the wait after the n-th failure in a row.
func backoff(n int) time.Duration {
	d := BackoffMin
	for i := 1; i < n && d < BackoffMax; i++ {
		d *= 2
	}
	d = min(d, BackoffMax)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// Token implements creds.Tokens: the current token of reg's identity,
// waiting for the first fetch while ctx allows. An expired token is never
// returned.
func (s *tokenStore) Token(ctx context.Context, reg *config.Registry) (creds.Token, error) {
	e, ok := s.entry(reg)
	if !ok {
		return creds.Token{}, errors.New("registry is no longer in the config")
	}
	select {
	case <-e.first:
	case <-ctx.Done():
		return creds.Token{}, fmt.Errorf("first token not there yet: %s has not answered; see ocicred status", cloudName(reg.Type))
	}
	st, ok := s.snap.Load().ids[s.keyOf(reg)]
	if !ok {
		st = &identityState{}
	}
	now := s.clock.Now()
	if !st.tok.ExpiresAt.IsZero() && !now.Before(st.tok.ExpiresAt) {
		// Expired while the loop sleeps (the wall clock jumped, or the
		// machine slept): wake it.
		select {
		case e.kick <- struct{}{}:
		default:
		}
	}
	switch {
	case !st.tok.ExpiresAt.IsZero() && now.Before(st.tok.ExpiresAt):
		return st.tok, nil
	case st.tok.ExpiresAt.IsZero() && st.lastErr != nil:
		return creds.Token{}, st.lastErr
	case st.tok.ExpiresAt.IsZero():
		return creds.Token{}, errors.New("registry is no longer in the config")
	case st.lastErr != nil:
		return creds.Token{}, fmt.Errorf("token expired at %s and refresh fails: %w", st.tok.ExpiresAt.UTC().Format(time.RFC3339), st.lastErr)
	}
	return creds.Token{}, fmt.Errorf("token expired at %s; refresh pending", st.tok.ExpiresAt.UTC().Format(time.RFC3339))
}

// firstPending reports whether reg's identity still waits for its first
// fetch to finish.
func (s *tokenStore) firstPending(reg *config.Registry) bool {
	e, ok := s.entry(reg)
	if !ok {
		return false
	}
	select {
	case <-e.first:
		return false
	default:
		return true
	}
}

// current is reg's token when there is one and it has not expired,
// without waiting for a first fetch.
func (s *tokenStore) current(reg *config.Registry) (creds.Token, bool) {
	tok, ok := s.lastToken(reg)
	if !ok || !s.clock.Now().Before(tok.ExpiresAt) {
		return creds.Token{}, false
	}
	return tok, true
}

// lastToken is the newest token of reg's identity, expired or not.
func (s *tokenStore) lastToken(reg *config.Registry) (creds.Token, bool) {
	st, ok := s.state(reg)
	if !ok {
		return creds.Token{}, false
	}
	return st.tok, !st.tok.ExpiresAt.IsZero()
}

// entry is the loop serving reg's identity.
func (s *tokenStore) entry(reg *config.Registry) (*tokenEntry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[s.keyOf(reg)]
	return e, ok
}
