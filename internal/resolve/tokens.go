package resolve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/tokencache"
	"github.com/ocicred/ocicred/internal/tokensource"
)

// fetcher is the cloud side of the daemon-less token source.
type fetcher interface {
	Fetch(ctx context.Context, reg *config.Registry) (creds.Token, error)
}

// cloud is the token fetcher and the cache key of a registry's identity:
// the one place the daemon-less path names a cloud's token package.
func cloud() (fetcher, func(*config.Registry) string) {
	return tokensource.NewFetcher(tokensource.Options{}), func(reg *config.Registry) string { return string(tokensource.KeyOf(reg)) }
}

// cachedTokens is the daemon-less token source: the token cache first,
// then the cloud, whose answer is cached for the next call.
type cachedTokens struct {
	cache    *tokencache.Cache // nil: no cache folder
	dir      string            // the cache folder, when cache is set
	noCache  error             // why there is no cache folder
	fetcher  fetcher
	keyOf    func(*config.Registry) string // the cache key of reg's identity
	log      io.Writer                     // where each answer came from (the helper hides it unless debugging)
	warn     io.Writer                     // what the user must fix, shown even to the helper's callers
	warnOnce sync.Once
}

// localTokens is a token source for one daemon-less answer, reporting on
// opts.Stderr.
func localTokens(opts Options) *cachedTokens {
	stderr := opts.Stderr
	if stderr == nil {
		stderr = io.Discard
	}
	f, keyOf := cloud()
	t := &cachedTokens{fetcher: f, keyOf: keyOf, log: stderr, warn: stderr}
	if opts.Quiet {
		t.log = io.Discard
	}
	dir, err := tokencache.Dir()
	if err != nil {
		t.noCache = err
	} else {
		t.cache, t.dir = tokencache.New(dir, nil), dir
	}
	return t
}

// Token is reg's token: the cached one while it has time left, else a new
// one from the cloud (cached for the next call), else the last good one
// until it expires. Errors are the fetcher's.
func (t *cachedTokens) Token(ctx context.Context, reg *config.Registry) (creds.Token, error) {
	key := t.keyOf(reg)
	name := tokencache.Name(key)
	if t.cache != nil {
		if err := t.cache.Migrate(key, []string{reg.Name}); err != nil {
			t.cacheUnusable(err)
		}
		tok, err := t.cache.Get(name)
		switch {
		case err == nil:
			fmt.Fprintf(t.log, "registry %s: token from the cache\n", reg.Name)
			return tok, nil
		case !errors.Is(err, tokencache.ErrNoToken):
			t.cacheUnusable(err)
		}
	}
	tok, err := t.fetcher.Fetch(ctx, reg)
	if err != nil {
		// As the daemon does: the last good token serves until it expires.
		if t.cache != nil {
			if last, lerr := t.cache.LastGood(name); lerr == nil {
				fmt.Fprintf(t.log, "registry %s: AWS failed (%v); serving the cached token until it expires at %s\n",
					reg.Name, err, last.ExpiresAt.UTC().Format(time.RFC3339))
				return last, nil
			}
		}
		return creds.Token{}, err
	}
	if err := creds.CheckFresh(tok, time.Now()); err != nil {
		return creds.Token{}, err
	}
	if t.cache == nil {
		t.cacheUnusable(t.noCache)
	} else if err := t.cache.Put(name, tok); err != nil {
		t.cacheUnusable(err)
	}
	return tok, nil
}

// cacheUnusable says once per run that the token cache is not used: every
// pull then waits for the cloud, and the user can fix it. Said on stderr
// even for the helper, which hides everything else unless debugging.
func (t *cachedTokens) cacheUnusable(err error) {
	t.warnOnce.Do(func() {
		fmt.Fprintf(t.warn, "ocicred: tokens are not cached, so every pull asks AWS: %v\n", err)
	})
}
