// Package tokensource is the one door to every cloud's token source: it
// sends KeyOf, Describe, Fetch, Forget and Explain to ecrtoken, gartoken
// or acrtoken by the registry's type (spec, "Other clouds": one engine,
// the same refresh for every token registry). The daemon's engine and the
// daemon-less path use it and never a cloud package directly, so a new
// cloud is a new case here, not a second engine.
//
// Read tokensource.go first.
package tokensource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/acrtoken"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/ecrtoken"
	"github.com/ocicred/ocicred/internal/gartoken"
)

// Key names the identity a token belongs to: registries with equal keys
// share one token and one refresh loop. ECR keys are ecrtoken's as they
// were (the token cache's file names depend on them); the other clouds'
// start with their type and a colon ("gar:…", "acr:…").
type Key string

// KeyOf is reg's identity key; reg must be a token registry
// (reg.IsProtected()).
func KeyOf(reg *config.Registry) Key {
	switch reg.Type {
	case config.TypeECR:
		return Key(ecrtoken.KeyOf(reg))
	case config.TypeGAR:
		return Key(gartoken.KeyOf(reg))
	case config.TypeACR:
		return Key(acrtoken.KeyOf(reg))
	}
	return Key(reg.Type + ":unsupported:" + reg.Name)
}

// Describe names reg's identity for logs and status, without any secret.
func Describe(reg *config.Registry) string {
	switch reg.Type {
	case config.TypeECR:
		return ecrtoken.Describe(reg)
	case config.TypeGAR:
		return gartoken.Describe(reg)
	case config.TypeACR:
		return acrtoken.Describe(reg)
	}
	return reg.Type
}

// Representative orders regs, which share one key, so that the first is
// the one a refresh loop fetches for (ECR: a dual-stack name first, so
// that the call goes to the dual-stack API when any name needs it).
func Representative(regs []*config.Registry) []*config.Registry {
	if len(regs) > 0 && regs[0].Type == config.TypeECR {
		return ecrtoken.DualStackFirst(regs)
	}
	return regs
}

// Fetcher gets tokens from every cloud. Safe for concurrent use.
type Fetcher struct {
	ecr *ecrtoken.Fetcher
	gar *gartoken.Fetcher
	acr *acrtoken.Fetcher
	// onFetch, when set, is told of every fetch (for metrics).
	onFetch func(typ string, err error)
}

// Options configure a Fetcher; the zero value is the production one.
type Options struct {
	// OnAWSCall is told of every AWS GetAuthorizationToken (metrics).
	OnAWSCall func(api string, err error)
	// OnFetch is told of every token fetch, by registry type (metrics).
	OnFetch func(typ string, err error)
	// Log receives the cloud SDKs' own log lines; nil discards them.
	Log *slog.Logger
}

// NewFetcher returns a Fetcher for every cloud ocicred knows.
func NewFetcher(o Options) *Fetcher {
	e := ecrtoken.NewFetcher()
	e.OnCall = o.OnAWSCall
	e.Log = o.Log
	var acrOpts []acrtoken.Option
	if o.Log != nil {
		acrOpts = append(acrOpts, acrtoken.WithLogger(o.Log))
	}
	return &Fetcher{ecr: e, gar: gartoken.NewFetcher(), acr: acrtoken.NewFetcher(acrOpts...), onFetch: o.OnFetch}
}

// ErrUnsupported: no token source serves the registry's type.
var ErrUnsupported = errors.New("no token source for this registry type")

// Fetch gets a fresh token for reg from its cloud. Each cloud bounds its
// own wait; errors are that cloud's *Failure (see Explain).
func (f *Fetcher) Fetch(ctx context.Context, reg *config.Registry) (tok creds.Token, err error) {
	if f.onFetch != nil {
		defer func() { f.onFetch(reg.Type, err) }()
	}
	switch reg.Type {
	case config.TypeECR:
		return f.ecr.Fetch(ctx, reg)
	case config.TypeGAR:
		return f.gar.Fetch(ctx, reg)
	case config.TypeACR:
		return f.acr.Fetch(ctx, reg)
	}
	return creds.Token{}, fmt.Errorf("registry %s: %w %s", reg.Name, ErrUnsupported, reg.Type)
}

// Forget drops every cloud's cached clients of identities not in keep.
func (f *Fetcher) Forget(keep map[Key]bool) {
	ecrKeep, garKeep, acrKeep := map[ecrtoken.Key]bool{}, map[gartoken.Key]bool{}, map[acrtoken.Key]bool{}
	for k := range keep {
		switch typ, _, _ := strings.Cut(string(k), ":"); typ {
		case config.TypeGAR:
			garKeep[gartoken.Key(k)] = true
		case config.TypeACR:
			acrKeep[acrtoken.Key(k)] = true
		case string(k): // no colon: ECR's
			ecrKeep[ecrtoken.Key(k)] = true
		}
	}
	f.ecr.Forget(ecrKeep)
	f.gar.Forget(garKeep)
	f.acr.Forget(acrKeep)
}

// Explain gives err, from any cloud's fetch, as that cloud's *Failure
// where it can be classified: one line that ends with what to do.
func Explain(err error) error {
	var af *acrtoken.Failure
	var gf *gartoken.Failure
	if errors.As(err, &af) || errors.As(err, &gf) {
		return err
	}
	return ecrtoken.Explain(err)
}

// Reason is a short code for a failed fetch, for the refresh metric's
// reason label: the cloud's own (its Failure's Reason: the cloud's error
// code, "NoCredentials", "clock_skew"), else "timeout", "clock_skew" or
// "other".
func Reason(err error) string {
	var f interface{ Reason() string } // ecrtoken's, gartoken's or acrtoken's *Failure
	if errors.As(err, &f) {
		if r := f.Reason(); r != "" {
			return r
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, creds.ErrClockSkew):
		return "clock_skew"
	}
	return "other"
}
