package acrtoken

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/test/azfake"
)

// TestClientSecretFetch: a client secret gets a refresh token that a real
// registry client pulls with, dated by local receipt; the Entra token is
// asked for once.
func TestClientSecretFetch(t *testing.T) {
	w := start(t, nil)
	w.fake.AddClientSecret(tenant, appID, secretV)
	w.reg.Grant(appID)
	// Our Entra token is for the ACR audience: a hardened registry takes it.
	w.reg.DisableARMAudience(true)
	reg := w.secretRegistry(t, w.reg, secretV)
	tok, err := w.f.Fetch(testCtx(t), reg)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if want := w.clock.now().Add(azfake.DefaultRefreshLifetime); !tok.ExpiresAt.Equal(want) || tok.Skew != 0 {
		t.Errorf("ExpiresAt %s, Skew %s; want %s, 0", tok.ExpiresAt, tok.Skew, want)
	}
	for ep, n := range map[string]int{azfake.EndpointOpenID: 1, azfake.EndpointToken: 1, azfake.EndpointExchange: 1, azfake.EndpointDiscovery: 0} {
		if got := w.fake.CallCount(ep); got != n {
			t.Errorf("%d calls to %s, want %d", got, ep, n)
		}
	}
	for _, c := range w.fake.Calls() {
		if c.Endpoint == azfake.EndpointToken && c.Scope != Scope+" openid offline_access profile" {
			t.Errorf("Entra scope %q, want the ACR scope", c.Scope)
		}
		if c.Endpoint == azfake.EndpointExchange && (c.Tenant != tenant || c.Registry != w.reg.Host) {
			t.Errorf("exchange %+v, want tenant %s at %s", c, tenant, w.reg.Host)
		}
	}
	pull(t, w, tok)

	// Again: the Entra token is cached, only the exchange is called.
	w.fake.Reset()
	if _, err := w.f.Fetch(testCtx(t), reg); err != nil {
		t.Fatal(err)
	}
	if n, m := w.fake.CallCount(azfake.AnyEndpoint), w.fake.CallCount(azfake.EndpointExchange); n != 1 || m != 1 {
		t.Errorf("second fetch made %d calls (%d exchanges), want 1 exchange only", n, m)
	}
}

// pull pushes an image upstream and pulls it with crane through the
// registry front with tok.
func pull(t *testing.T, w *world, tok creds.Token) {
	t.Helper()
	img, _ := random.Image(128, 1)
	ctx := crane.WithContext(testCtx(t))
	if err := crane.Push(img, w.reg.Host+"/team/app:v1", ctx, crane.Insecure); err == nil {
		t.Fatal("the front let an anonymous push through")
	}
	up := upstream(t, w)
	if err := crane.Push(img, up+"/team/app:v1", ctx, crane.Insecure); err != nil {
		t.Fatal(err)
	}
	auth := crane.WithAuth(&authn.Basic{Username: Username, Password: tok.Password.Reveal()})
	want, _ := img.Digest()
	if got, err := crane.Digest(w.reg.Host+"/team/app:v1", auth, ctx, crane.Insecure); err != nil || got != want.String() {
		t.Errorf("pull with the refresh token: %q, %v", got, err)
	}
}

// TestTwoRegistriesOneIdentity: two keys, two exchanges, one Entra token;
// each refresh token opens its own registry only.
func TestTwoRegistriesOneIdentity(t *testing.T) {
	w := start(t, nil)
	w.fake.AddClientSecret(tenant, appID, secretV)
	other := w.newRegistry(t)
	w.reg.Grant(appID)
	other.Grant(appID)
	a, b := w.secretRegistry(t, w.reg, secretV), w.secretRegistry(t, other, secretV)
	if KeyOf(a) == KeyOf(b) {
		t.Fatal("two registries share a key: a refresh token is bound to one")
	}
	ta, err := w.f.Fetch(testCtx(t), a)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := w.f.Fetch(testCtx(t), b)
	if err != nil {
		t.Fatal(err)
	}
	if n := w.fake.CallCount(azfake.EndpointToken); n != 1 {
		t.Errorf("%d Entra token calls for one identity, want 1", n)
	}
	if n := w.fake.CallCount(azfake.EndpointExchange); n != 2 {
		t.Errorf("%d exchanges, want 2", n)
	}
	if ta.Password.Reveal() == tb.Password.Reveal() {
		t.Error("one refresh token for two registries")
	}
	// a's token does not open b.
	auth := crane.WithAuth(&authn.Basic{Username: Username, Password: ta.Password.Reveal()})
	if _, err := crane.Digest(other.Host+"/team/app:v1", auth, crane.Insecure, crane.WithContext(testCtx(t))); err == nil || !strings.Contains(err.Error(), "UNAUTHORIZED") {
		t.Errorf("registry A's token on registry B: %v, want UNAUTHORIZED", err)
	}
}

// TestForget drops the credentials of identities no kept key uses.
func TestForget(t *testing.T) {
	w := start(t, nil)
	w.fake.AddClientSecret(tenant, appID, secretV)
	w.fake.AddClientSecret(tenant, appID, "second") // replaces: the secret was rotated
	w.reg.Grant(appID)
	old, cur := w.secretRegistry(t, w.reg, secretV), w.secretRegistry(t, w.reg, "second")
	if KeyOf(old) == KeyOf(cur) {
		t.Fatal("a rotated secret keeps its key")
	}
	_, _ = w.f.Fetch(testCtx(t), old)
	if _, err := w.f.Fetch(testCtx(t), cur); err != nil {
		t.Fatal(err)
	}
	if n := len(w.f.creds); n != 2 {
		t.Fatalf("%d credentials, want 2", n)
	}
	w.f.Forget(map[Key]bool{KeyOf(cur): true})
	if _, ok := w.f.creds[identityOf(cur)]; !ok || len(w.f.creds) != 1 {
		t.Errorf("after Forget: %d credentials, kept one: %t", len(w.f.creds), ok)
	}
	w.f.Forget(nil)
	if len(w.f.creds) != 0 || len(w.f.keys) != 0 {
		t.Errorf("Forget(nil) left %d credentials, %d keys", len(w.f.creds), len(w.f.keys))
	}
}

// TestSkewReported: a registry whose clock is behind issues iat in the
// past; the token is dated by local receipt and Skew says by how much.
func TestSkewReported(t *testing.T) {
	w := start(t, nil)
	w.fake.AddClientSecret(tenant, appID, secretV)
	w.reg.Grant(appID)
	w.fake.SetClockSkew(-10 * time.Minute)
	tok, err := w.f.Fetch(testCtx(t), w.secretRegistry(t, w.reg, secretV))
	if err != nil {
		t.Fatal(err)
	}
	if want := w.clock.now().Add(azfake.DefaultRefreshLifetime); !tok.ExpiresAt.Equal(want) || tok.Skew != -10*time.Minute {
		t.Errorf("ExpiresAt %s, Skew %s; want %s, -10m", tok.ExpiresAt, tok.Skew, want)
	}
}

// TestRefusedEntraTokenIsNotReused: when ACR refuses the Entra token
// (here: already expired, by the Expired fault), the next fetch asks
// Entra ID again instead of reusing azidentity's cached token.
func TestRefusedEntraTokenIsNotReused(t *testing.T) {
	w := start(t, nil)
	w.fake.AddClientSecret(tenant, appID, secretV)
	w.reg.Grant(appID)
	reg := w.secretRegistry(t, w.reg, secretV)
	w.fake.Inject(azfake.Expired, azfake.EndpointToken, 1)
	_, err := w.f.Fetch(testCtx(t), reg)
	wantFailure(t, err, KindUnauthorized, "UNAUTHORIZED")
	if _, err := w.f.Fetch(testCtx(t), reg); err != nil {
		t.Fatalf("second fetch: %v", err)
	}
	if n := w.fake.CallCount(azfake.EndpointToken); n != 2 {
		t.Errorf("%d Entra token calls, want 2", n)
	}
}

// TestConcurrentFetchesShareACredential: fetches racing for one identity
// end with one credential, and every one of them gets a token.
func TestConcurrentFetchesShareACredential(t *testing.T) {
	w := start(t, nil)
	w.fake.AddClientSecret(tenant, appID, secretV)
	w.reg.Grant(appID)
	reg := w.secretRegistry(t, w.reg, secretV)
	errs := make(chan error, 8)
	for range 8 {
		go func() { _, err := w.f.Fetch(testCtx(t), reg); errs <- err }()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := len(w.f.creds); n != 1 {
		t.Errorf("%d credentials for one identity", n)
	}
	if n := w.fake.CallCount(azfake.EndpointExchange); n != 8 {
		t.Errorf("%d exchanges, want 8", n)
	}
}
