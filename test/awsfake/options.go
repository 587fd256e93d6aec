package awsfake

import (
	"io"
	"log/slog"
	"time"
)

// Defaults of New.
const (
	// DefaultAccount is the account of every caller that is not an assumed role.
	DefaultAccount = "123456789012"
	// DefaultTokenLifetime is how long a registry token lasts, as on ECR.
	DefaultTokenLifetime = 12 * time.Hour
	// DefaultSessionDuration is AssumeRole's DurationSeconds when none is given.
	DefaultSessionDuration = time.Hour
)

// Option changes one default of New or Start.
type Option func(*options)

type options struct {
	now           func() time.Time
	tokenLifetime time.Duration
	account       string
	proxyEndpoint string
	log           *slog.Logger
	expireKeys    bool
	keys          map[string]string // long-term secret keys by access key id (WithKey)
}

// defaults holds every default in one place.
func defaults() options {
	return options{
		now:           time.Now,
		tokenLifetime: DefaultTokenLifetime,
		account:       DefaultAccount,
		keys:          map[string]string{},
		log:           slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// WithNow sets the clock used for token and key expiry and for Call.Time.
func WithNow(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithTokenLifetime sets how long registry tokens last (default 12h).
func WithTokenLifetime(d time.Duration) Option {
	return func(o *options) { o.tokenLifetime = d }
}

// WithAccount sets the account of callers signing with long-term keys.
func WithAccount(id string) Option {
	return func(o *options) { o.account = id }
}

// WithProxyEndpoint makes ECR answer proxyEndpoint u instead of
// https://<account>.dkr.ecr.<region>.amazonaws.com, e.g. a registry front's URL.
func WithProxyEndpoint(u string) Option {
	return func(o *options) { o.proxyEndpoint = u }
}

// WithLogger sets the logger; by default nothing is logged (Start logs to t.Log).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.log = l }
}

// WithKeyExpiry makes calls signed with an expired temporary key (by the
// server's clock) fail with ExpiredTokenException, as AWS does. Off by
// default, so that advancing the clock to expire registry tokens does not
// also invalidate the caller's assumed-role keys.
func WithKeyExpiry() Option {
	return func(o *options) { o.expireKeys = true }
}
