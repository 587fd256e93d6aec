package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/ecrtoken"
	"github.com/ocicred/ocicred/internal/tokencache"
)

// cachedTokens is the daemon-less ECR token source: the token cache first,
// then AWS, whose answer is cached for the next call.
type cachedTokens struct {
	cache   *tokencache.Cache // nil: no cache folder
	fetcher *ecrtoken.Fetcher
	log     io.Writer
}

func (g *globals) localTokens() creds.Tokens {
	t := &cachedTokens{fetcher: ecrtoken.NewFetcher(), log: g.stderr}
	if dir, err := tokencache.Dir(); err == nil {
		t.cache = tokencache.New(dir, nil)
	}
	return t
}

func (t *cachedTokens) Token(ctx context.Context, reg *config.Registry) (creds.Token, error) {
	name := tokencache.Name(reg.Name, string(ecrtoken.KeyOf(reg)))
	if t.cache != nil {
		if tok, ok := t.cache.Get(name); ok {
			fmt.Fprintf(t.log, "registry %s: token from the cache\n", reg.Name)
			return tok, nil
		}
	}
	tok, err := t.fetcher.Fetch(ctx, reg)
	if err != nil {
		return creds.Token{}, err
	}
	if t.cache != nil {
		if err := t.cache.Put(name, tok); err != nil {
			fmt.Fprintf(t.log, "registry %s: %v\n", reg.Name, err)
		}
	}
	return tok, nil
}
