package acrtoken

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/creds"
)

// FetchTimeout bounds one Fetch (Entra ID or IMDS, then the exchange,
// retries included) unless WithTimeout says otherwise.
const FetchTimeout = 10 * time.Second

// Fetcher gets ACR refresh tokens. It keeps one azidentity credential per
// identity (so the Entra token is asked for once and shared by the
// registries of that identity). Safe for concurrent use.
type Fetcher struct {
	client         *http.Client // carries every Azure call (Entra ID, IMDS, ACR)
	exchangeClient *http.Client // client, refusing redirects
	retry          policy.RetryOptions
	timeout        time.Duration
	now            func() time.Time
	log            *slog.Logger

	mu    sync.Mutex
	creds map[identity]credential
	keys  map[Key]identity // which identity each key fetched with
}

// Option changes one default of NewFetcher.
type Option func(*Fetcher)

// WithTransport sends every Azure call through rt (tests: a transport
// that trusts a fake's CA and routes IMDS to it). The default is Go's
// transport with proxies from the environment, except for IMDS.
func WithTransport(rt http.RoundTripper) Option {
	return func(f *Fetcher) { f.client = &http.Client{Transport: rt} }
}

// WithTimeout bounds each Fetch by d instead of FetchTimeout.
func WithTimeout(d time.Duration) Option {
	return func(f *Fetcher) { f.timeout = d }
}

// WithRetry sets azidentity's retries (tests: none, or short delays).
func WithRetry(r policy.RetryOptions) Option {
	return func(f *Fetcher) { f.retry = r }
}

// WithNow sets the clock a refresh token's receipt is dated by.
func WithNow(now func() time.Time) Option {
	return func(f *Fetcher) { f.now = now }
}

// WithLogger sets where acrtoken logs (a credential built); nil, or no
// WithLogger, discards.
func WithLogger(l *slog.Logger) Option {
	return func(f *Fetcher) {
		if l != nil {
			f.log = l
		}
	}
}

// NewFetcher returns a Fetcher; all defaults are here.
func NewFetcher(opts ...Option) *Fetcher {
	f := &Fetcher{
		client:  &http.Client{Transport: newTransport()},
		retry:   policy.RetryOptions{MaxRetries: 2, RetryDelay: 500 * time.Millisecond, MaxRetryDelay: 2 * time.Second},
		timeout: FetchTimeout,
		now:     time.Now,
		log:     slog.New(slog.DiscardHandler),
		creds:   map[identity]credential{},
		keys:    map[Key]identity{},
	}
	for _, o := range opts {
		o(f)
	}
	ec := *f.client
	ec.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	f.exchangeClient = &ec
	return f
}

// Fetch gets a fresh ACR refresh token for reg (an acr registry): an
// Entra ID token for Scope from reg's identity, exchanged at reg's own
// /oauth2/exchange. It returns within the Fetcher's timeout (FetchTimeout)
// or when ctx ends; errors are *Failure.
func (f *Fetcher) Fetch(ctx context.Context, reg *config.Registry) (creds.Token, error) {
	// The wait is measured on the monotonic clock, for the message only.
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	tok, step, err := f.fetch(ctx, reg)
	if err != nil {
		if ctx.Err() != nil {
			err = errors.Join(ctx.Err(), err)
		}
		return creds.Token{}, explain(err, reg, step, time.Since(start))
	}
	return tok, nil
}

// fetch does the two steps of Fetch; step names the one that failed.
func (f *Fetcher) fetch(ctx context.Context, reg *config.Registry) (tok creds.Token, step string, err error) {
	step = "Entra ID (" + Describe(reg) + ")"
	if isManagedIdentity(reg) {
		step = "the managed identity endpoint (" + Describe(reg) + ")"
	}
	id := identityOf(reg)
	cred, err := f.credential(id, reg)
	if err != nil {
		return creds.Token{}, step, err
	}
	f.mu.Lock()
	f.keys[KeyOf(reg)] = id
	f.mu.Unlock()
	at, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{Scope}})
	if err != nil {
		return creds.Token{}, step, err
	}
	tenant := reg.TenantID
	if tenant == "" {
		tenant = tenantOf(at.Token)
	}
	tok, err = f.exchange(ctx, reg, tenant, at.Token)
	var ee *exchangeError
	if errors.As(err, &ee) && ee.status == http.StatusUnauthorized {
		// The registry refused the Entra token azidentity cached (expired
		// by ACR's clock, or issued before a role change): ask Entra ID
		// afresh next time. (Managed-identity tokens are cached by MSAL
		// process-wide and stay until MSAL's own refresh.)
		f.forgetIdentity(id)
	}
	return tok, "ACR " + reg.Host + " /oauth2/exchange", err
}

// forgetIdentity drops one identity's credential.
func (f *Fetcher) forgetIdentity(id identity) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.creds, id)
}

// credential returns identity id's credential, built on first use or
// when its files changed.
func (f *Fetcher) credential(id identity, reg *config.Registry) (azcore.TokenCredential, error) {
	material, err := currentMaterial(reg)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	c, ok := f.creds[id]
	f.mu.Unlock()
	if ok && c.material == material {
		return c.cred, nil
	}
	c, err = f.newCredential(reg)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if cur, ok := f.creds[id]; ok && cur.material == material {
		// A concurrent fetch built it first: keep one cache per identity.
		return cur.cred, nil
	}
	f.creds[id] = c
	f.log.Info("azure credential ready", "identity", Describe(reg))
	return c.cred, nil
}

// Forget drops the credentials (and so the cached Entra tokens) of
// identities that no key in keep uses.
func (f *Fetcher) Forget(keep map[Key]bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	used := map[identity]bool{}
	for k, id := range f.keys {
		if keep[k] {
			used[id] = true
		} else {
			delete(f.keys, k)
		}
	}
	for id := range f.creds {
		if !used[id] {
			delete(f.creds, id)
		}
	}
}
