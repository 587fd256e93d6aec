package acrtoken

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/test/azfake"
)

const (
	tenant  = azfake.DefaultTenant
	appID   = "11111111-1111-1111-1111-111111111111"
	secretV = "acr-client-secret-never-printed"
)

// world is one test's Azure: the fake, a registry in front of a real one,
// a fixed clock and a Fetcher that reaches only the fake.
type world struct {
	fake  *azfake.Server
	reg   *azfake.Registry
	f     *Fetcher
	clock *clock
	logs  *bytes.Buffer
	// upstreamHost is the real registry behind reg.
	upstreamHost string
	lastUpstream string
}

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// start makes a world; opts are the Fetcher's, after the test defaults
// (the fake's transport, no retries, the clock).
func start(t *testing.T, fakeOpts []azfake.Option, opts ...Option) *world {
	t.Helper()
	c := &clock{t: time.Now().Truncate(time.Second)}
	fake := azfake.Start(t, append([]azfake.Option{azfake.WithNow(c.now)}, fakeOpts...)...)
	w := &world{fake: fake, clock: c, logs: &bytes.Buffer{}}
	w.reg = w.newRegistry(t)
	w.upstreamHost = w.lastUpstream
	base := []Option{WithTransport(fake.Transport()), WithRetry(policy.RetryOptions{MaxRetries: -1}), WithNow(c.now),
		WithLogger(slog.New(slog.NewTextHandler(w.logs, nil)))}
	w.f = NewFetcher(append(base, opts...)...)
	return w
}

// newRegistry starts another ACR front, on its own upstream.
func (w *world) newRegistry(t *testing.T) *azfake.Registry {
	t.Helper()
	up := httptest.NewServer(registry.New(registry.Logger(discardLog())))
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL)
	w.lastUpstream = u.Host
	return w.fake.NewRegistry(u)
}

// registry parses an acr registry for r, with the credentials block
// credYAML (flow style), and resolves its secrets from env.
func (w *world) registry(t *testing.T, r *azfake.Registry, extra, credYAML string, env map[string]string) *config.Registry {
	t.Helper()
	y := fmt.Sprintf(`registries:
  - name: acr
    type: acr
    endpoint: %s
    authorityHost: %s
    disableInstanceDiscovery: true
%s    credentials: %s
`, r.URL, w.fake.AuthorityHost(), extra, credYAML)
	c, err := config.Parse([]byte(y), "c.yaml")
	if err != nil {
		t.Fatalf("config: %v\n%s", err, y)
	}
	src := config.Sources{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }, ReadFile: config.ReadSecretFile}
	if err := c.ResolveSecrets(src); err != nil {
		t.Fatal(err)
	}
	return c.Registries[0]
}

// secretRegistry is r with the clientSecret identity appID.
func (w *world) secretRegistry(t *testing.T, r *azfake.Registry, secret string) *config.Registry {
	t.Helper()
	return w.registry(t, r, "    tenantId: "+tenant+"\n", "{type: clientSecret, clientId: "+appID+", clientSecretEnv: ACR_SECRET}",
		map[string]string{"ACR_SECRET": secret})
}

// testCtx is a context that ends with the test, within a minute.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// writeFile writes data to a new file in the test's folder.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// uniqueID is a fresh GUID-shaped id (MSAL caches managed-identity tokens
// process-wide, by identity).
func uniqueID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// wantFailure checks that err is a *Failure of kind, with code when given,
// and returns it.
func wantFailure(t *testing.T, err error, kind Kind, code string) *Failure {
	t.Helper()
	f, ok := err.(*Failure)
	if !ok {
		t.Fatalf("error %T %v, want a *Failure", err, err)
	}
	if f.Kind != kind || (code != "" && f.Code != code) {
		t.Errorf("failure %q (kind %q, code %q), want kind %q code %q", f.Msg, f.Kind, f.Code, kind, code)
	}
	if strings.Contains(f.Msg, "\n") {
		t.Errorf("failure message spans lines: %q", f.Msg)
	}
	return f
}

// discardLog is a standard logger that drops everything.
func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }

// upstream is the host of the real registry behind w.reg.
func upstream(t *testing.T, w *world) string {
	t.Helper()
	return w.upstreamHost
}

// shortRetry retries at once.
func shortRetry() policy.RetryOptions {
	return policy.RetryOptions{MaxRetries: 2, RetryDelay: time.Millisecond, MaxRetryDelay: time.Millisecond}
}
