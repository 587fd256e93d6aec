package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/ecrtoken"
	"github.com/ocicred/ocicred/internal/tokencache"
)

// cachedTokens is the daemon-less ECR token source: the token cache first,
// then AWS, whose answer is cached for the next call.
type cachedTokens struct {
	cache    *tokencache.Cache // nil: no cache folder
	noCache  error             // why there is no cache folder
	fetcher  *ecrtoken.Fetcher
	log      io.Writer // where each answer came from (the helper hides it unless debugging)
	warn     io.Writer // what the user must fix, shown even to the helper's callers
	warnOnce sync.Once
}

func (g *globals) localTokens() creds.Tokens {
	t := &cachedTokens{fetcher: ecrtoken.NewFetcher(), log: g.stderr, warn: g.stderr}
	if g.quiet {
		t.log = io.Discard
	}
	dir, err := tokencache.Dir()
	if err != nil {
		t.noCache = err
	} else {
		t.cache = tokencache.New(dir, nil)
	}
	return t
}

func (t *cachedTokens) Token(ctx context.Context, reg *config.Registry) (creds.Token, error) {
	key := string(ecrtoken.KeyOf(reg))
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
// pull then waits for AWS, and the user can fix it. Said on stderr even for
// the helper, which hides everything else unless debugging.
func (t *cachedTokens) cacheUnusable(err error) {
	t.warnOnce.Do(func() {
		fmt.Fprintf(t.warn, "ocicred: tokens are not cached, so every pull asks AWS: %v\n", err)
	})
}
