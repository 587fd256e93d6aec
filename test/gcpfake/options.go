package gcpfake

import (
	"io"
	"log/slog"
	"time"
)

// Defaults of New.
const (
	// DefaultTokenLifetime is expires_in of the access tokens the token
	// endpoint, the metadata server and STS issue, as Google answers
	// (3599 s: an hour less the second the answer took).
	DefaultTokenLifetime = 3599 * time.Second
	// MaxImpersonationLifetime is the longest lifetime generateAccessToken
	// grants without the org-policy exception.
	MaxImpersonationLifetime = time.Hour
	// DefaultSlowDelay is how long the SlowHeaders fault holds an answer.
	DefaultSlowDelay = 3 * time.Second
	// DefaultProjectID is what the metadata server names as its project.
	DefaultProjectID = "ocicred-test"
	// CloudPlatformScope is the scope every Google API accepts.
	CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"
)

// Option changes one default of New or Start.
type Option func(*options)

type options struct {
	now             func() time.Time
	tokenLifetime   time.Duration
	maxLifetime     time.Duration
	slowDelay       time.Duration
	projectID       string
	metadataAccount string
	log             *slog.Logger
}

// defaults holds every default in one place.
func defaults() options {
	return options{
		now:           time.Now,
		tokenLifetime: DefaultTokenLifetime,
		maxLifetime:   MaxImpersonationLifetime,
		slowDelay:     DefaultSlowDelay,
		projectID:     DefaultProjectID,
		log:           slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// WithNow sets the clock that checks assertions (iat, exp), issues and
// expires tokens, and stamps Call.Time.
func WithNow(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithTokenLifetime sets expires_in of issued access tokens (default 3599 s).
func WithTokenLifetime(d time.Duration) Option {
	return func(o *options) { o.tokenLifetime = d }
}

// WithMaxImpersonationLifetime sets the longest lifetime
// generateAccessToken grants (default 1 h; 12 h with the org policy).
func WithMaxImpersonationLifetime(d time.Duration) Option {
	return func(o *options) { o.maxLifetime = d }
}

// WithSlowDelay sets how long SlowHeaders holds an answer before sending it.
func WithSlowDelay(d time.Duration) Option {
	return func(o *options) { o.slowDelay = d }
}

// WithMetadataAccount gives the metadata server a default service account
// (email) from the start, as SetMetadataAccount does.
func WithMetadataAccount(email string) Option {
	return func(o *options) { o.metadataAccount = email }
}

// WithProjectID sets the metadata server's project id.
func WithProjectID(id string) Option {
	return func(o *options) { o.projectID = id }
}

// WithLogger sets the logger; by default nothing is logged (Start logs to t.Log).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.log = l }
}
