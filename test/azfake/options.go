package azfake

import (
	"io"
	"log/slog"
	"time"
)

// Defaults of New.
const (
	// DefaultTenant is the tenant that principals are registered in unless
	// a test names another.
	DefaultTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	// DefaultEntraLifetime is how long an Entra ID access token lasts
	// (Entra's own default is a random 60 to 90 minutes).
	DefaultEntraLifetime = time.Hour
	// DefaultManagedIdentityLifetime is how long a managed identity's
	// token lasts, as IMDS answers (about 24 h).
	DefaultManagedIdentityLifetime = 24 * time.Hour
	// DefaultRefreshLifetime is how long an ACR refresh token lasts (about
	// 3 h on ACR).
	DefaultRefreshLifetime = 3 * time.Hour
	// DefaultAccessLifetime is how long an ACR access token lasts.
	DefaultAccessLifetime = 75 * time.Minute
	// AssertionLeeway is how far a client assertion's nbf and exp may be
	// off the server's clock, as Entra tolerates (5 minutes).
	AssertionLeeway = 5 * time.Minute
)

// Option changes one default of New or Start.
type Option func(*options)

type options struct {
	now             func() time.Time
	entraLifetime   time.Duration
	miLifetime      time.Duration
	refreshLifetime time.Duration
	allowARMScope   bool
	log             *slog.Logger
}

// defaults holds every default in one place.
func defaults() options {
	return options{
		now:             time.Now,
		entraLifetime:   DefaultEntraLifetime,
		miLifetime:      DefaultManagedIdentityLifetime,
		refreshLifetime: DefaultRefreshLifetime,
		log:             slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// WithNow sets the server's clock: what it issues tokens at and checks
// assertions and tokens against. SetClockSkew shifts it further.
func WithNow(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithEntraLifetime sets how long Entra ID access tokens last (default 1 h).
func WithEntraLifetime(d time.Duration) Option {
	return func(o *options) { o.entraLifetime = d }
}

// WithRefreshLifetime sets how long ACR refresh tokens last (default 3 h).
func WithRefreshLifetime(d time.Duration) Option {
	return func(o *options) { o.refreshLifetime = d }
}

// WithARMScope lets the token endpoint issue tokens for ARM's scope
// (https://management.azure.com/.default) as well as the ACR scope, so
// that a test can prove a registry refuses ARM-audience tokens.
func WithARMScope() Option {
	return func(o *options) { o.allowARMScope = true }
}

// WithLogger sets the logger; by default nothing is logged (Start logs to t.Log).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.log = l }
}
