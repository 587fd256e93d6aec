package gartoken

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/secret"
)

// Defaults of NewFetcher.
const (
	// Timeout bounds one Fetch, every request and retry included.
	Timeout = 10 * time.Second
	// MetadataAttemptTimeout bounds one request to the metadata server,
	// response headers included. The GKE metadata server can take more
	// than 2 s under load (docker-credential-gcr#75).
	MetadataAttemptTimeout = 3 * time.Second
	// MetadataAttempts is how many times a fetch asks the metadata server
	// when it does not answer or answers 5xx.
	MetadataAttempts = 3
	// IAMCredentialsURL is the base URL of IAM Credentials.
	IAMCredentialsURL = "https://iamcredentials.googleapis.com"
	// DefaultLifetime is an impersonation token's lifetime when the
	// config gives none: generateAccessToken's own default and maximum
	// without the org-policy exception.
	DefaultLifetime = time.Hour
)

// baseMargin is how long before its end a cached base token of
// impersonate is fetched again.
const baseMargin = 5 * time.Minute

// Fetcher gets Google access tokens. It keeps only the base tokens of
// impersonate identities between fetches. Safe for concurrent use.
type Fetcher struct {
	transport     http.RoundTripper // Google's public endpoints
	metaTransport http.RoundTripper // the metadata server: never through a proxy
	now           func() time.Time
	timeout       time.Duration
	metaTimeout   time.Duration
	metaBackoff   time.Duration
	iamURL        string

	mu    sync.Mutex
	bases map[Key]accessToken // base tokens of impersonate, by the registry's key
}

// Option changes one default of NewFetcher.
type Option func(*Fetcher)

// WithTransport carries every request, the metadata server's included,
// through rt (tests watch or redirect them).
func WithTransport(rt http.RoundTripper) Option {
	return func(f *Fetcher) { f.transport, f.metaTransport = rt, rt }
}

// WithNow sets the clock that ExpiresAt is computed on and cached base
// tokens are checked against.
func WithNow(now func() time.Time) Option {
	return func(f *Fetcher) { f.now = now }
}

// WithTimeout bounds each Fetch to d instead of Timeout.
func WithTimeout(d time.Duration) Option {
	return func(f *Fetcher) { f.timeout = d }
}

// WithMetadataTimeout bounds each metadata request to d instead of
// MetadataAttemptTimeout, and waits d/10 between attempts.
func WithMetadataTimeout(d time.Duration) Option {
	return func(f *Fetcher) { f.metaTimeout, f.metaBackoff = d, d/10 }
}

// WithIAMCredentialsURL sends generateAccessToken to u (scheme://host[:port])
// instead of IAMCredentialsURL: a private endpoint, or a test's fake.
func WithIAMCredentialsURL(u string) Option {
	return func(f *Fetcher) { f.iamURL = u }
}

// NewFetcher returns a Fetcher with every default in this one place.
func NewFetcher(opts ...Option) *Fetcher {
	meta := http.DefaultTransport.(*http.Transport).Clone()
	meta.Proxy = nil // as Google's metadata client: a proxy cannot reach a link-local address
	meta.DialContext = (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	f := &Fetcher{
		transport:     http.DefaultTransport,
		metaTransport: meta,
		now:           time.Now,
		timeout:       Timeout,
		metaTimeout:   MetadataAttemptTimeout,
		metaBackoff:   200 * time.Millisecond,
		iamURL:        IAMCredentialsURL,
		bases:         map[Key]accessToken{},
	}
	for _, o := range opts {
		o(f)
	}
	return f
}

// accessToken is a token, when it ends by the Fetcher's clock, and how far
// ahead of the Fetcher's clock the issuer's was (0 when unknown).
type accessToken struct {
	value   string
	expires time.Time
	skew    time.Duration
}

// minSkew is the least skew worth reporting: the Date header counts whole
// seconds, and the answer took some time to come.
const minSkew = 2 * time.Second

// Fetch gets a fresh access token for reg, a gar registry. It returns
// within the Fetcher's timeout (Timeout) or when ctx ends, whichever is
// first. The token's ExpiresAt is when Google says it ends (expires_in
// counted from its receipt, or generateAccessToken's expireTime); a
// token that has no end or has already ended is refused. Skew is how far
// Google's clock (its answer's Date) is from the Fetcher's, when 2 s or
// more. Errors are *Failure.
func (f *Fetcher) Fetch(ctx context.Context, reg *config.Registry) (creds.Token, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	c := credentialsOf(reg)
	tok, err := f.token(ctx, KeyOf(reg), c, scopesOf(c))
	if err != nil {
		return creds.Token{}, explain(err, "Google", time.Since(start))
	}
	return creds.Token{Password: secret.New(tok.value), ExpiresAt: tok.expires, Skew: tok.skew}, nil
}

// Forget drops the cached base tokens of identities not in keep.
func (f *Fetcher) Forget(keep map[Key]bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.bases {
		if !keep[k] {
			delete(f.bases, k)
		}
	}
}

// newObserver is an observer that reads the Fetcher's clock.
func (f *Fetcher) newObserver() *observer { return &observer{now: f.now} }

// httpClient is a client for one fetch: every request it sends carries
// ctx (the x/oauth2 token sources take no context of their own), goes
// through rt, and is seen by obs.
func httpClient(ctx context.Context, rt http.RoundTripper, obs *observer) *http.Client {
	return &http.Client{Transport: &fetchTransport{ctx: ctx, base: rt, obs: obs}}
}

// fetchTransport applies one fetch's context to each request and tells
// obs what came back. It lives no longer than the fetch whose context it
// holds.
type fetchTransport struct {
	ctx  context.Context
	base http.RoundTripper
	obs  *observer
}

func (t *fetchTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r.WithContext(t.ctx))
	t.obs.saw(r, resp, err)
	return resp, err
}

// maxErrorBody bounds the error answer an observer keeps.
const maxErrorBody = 16 << 10

// observer remembers the last answer of a fetch's requests: its URL (no
// query), status and, for an error answer, its body (an error document,
// never a token); or the transport error when there was no answer. It
// also measures the issuer's clock against now by the answer's Date.
type observer struct {
	now    func() time.Time
	mu     sync.Mutex
	url    string
	status int
	body   []byte
	netErr error
	skew   time.Duration // Date minus now at receipt, when |skew| >= minSkew
}

func (o *observer) saw(r *http.Request, resp *http.Response, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	u := *r.URL
	u.RawQuery, u.User = "", nil
	o.url, o.status, o.body, o.netErr = u.String(), 0, nil, err
	if resp == nil {
		return
	}
	o.status = resp.StatusCode
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil && o.now != nil {
		if o.skew = d.Sub(o.now()); o.skew.Abs() < minSkew {
			o.skew = 0
		}
	}
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		o.body = b
		resp.Body = io.NopCloser(bytes.NewReader(b))
	}
}

// explain classifies err, the failure of a library call whose requests
// obs saw: on Google's answer when there was an error answer, else as a
// timeout or a network failure, else as what the library said (a local
// failure: a file it could not read or parse, or an unusable answer).
func (o *observer) explain(ctx context.Context, what string, err error) error {
	o.mu.Lock()
	u, status, body, netErr, skew := o.url, o.status, o.body, o.netErr, o.skew
	o.mu.Unlock()
	if u != "" {
		what += " " + u
	}
	switch {
	case status >= 300:
		return explainAnswer(what, status, body, err, skewNote(skew))
	case ctx.Err() != nil:
		return explain(ctx.Err(), what, 0)
	case netErr != nil:
		return explain(netErr, what, 0)
	case status != 0:
		return fail(KindBadAnswer, "", what+": "+oneLine(err.Error()), err)
	}
	return fail(KindBadCredentials, "", oneLine(err.Error()), err)
}

// lastSkew is the skew measured on the last answer.
func (o *observer) lastSkew() time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.skew
}

// skewNote says how far Google's clock is from ours, to 10 s (the Date
// header counts whole seconds), "" when it is not known to be.
func skewNote(skew time.Duration) string {
	switch {
	case skew > 0:
		return fmt.Sprintf("by its Date header, Google's clock is %s ahead of this node's", skew.Round(10*time.Second))
	case skew < 0:
		return fmt.Sprintf("by its Date header, Google's clock is %s behind this node's", (-skew).Round(10*time.Second))
	}
	return ""
}
