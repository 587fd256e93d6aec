package azfake

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// entraToken gets an Entra token for scope from the real client.
func entraToken(t *testing.T, s *Server, scope string) string {
	t.Helper()
	opts := &azidentity.ClientSecretCredentialOptions{ClientOptions: clientOptions(s), DisableInstanceDiscovery: true}
	cred, err := azidentity.NewClientSecretCredential(DefaultTenant, appID, secretV, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(testCtx(t), policyScopes(scope))
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token
}

// refreshToken exchanges an Entra token at r, failing the test otherwise.
func refreshToken(t *testing.T, r *Registry, entra string) string {
	t.Helper()
	status, body := exchange(t, r, exchangeForm(r, DefaultTenant, entra))
	rt, _ := body["refresh_token"].(string)
	if status != http.StatusOK || rt == "" {
		t.Fatalf("exchange: %d %v", status, body)
	}
	return rt
}

// TestExchangeAndPull: an Entra token becomes a refresh token bound to the
// registry, with which crane (a real client, through the Bearer challenge
// and /oauth2/token) pulls; without it, or with another registry's, it
// cannot.
func TestExchangeAndPull(t *testing.T) {
	s := Start(t)
	s.AddClientSecret(DefaultTenant, appID, secretV)
	a, b := startRegistry(t, s), startRegistry(t, s)
	a.Grant(appID)
	b.Grant(appID)
	rt := refreshToken(t, a, entraToken(t, s, ACRScope))
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(rt, claims); err != nil {
		t.Fatal(err)
	}
	iat, _ := claims.GetIssuedAt()
	exp, _ := claims.GetExpirationTime()
	if claims["aud"] != a.Host || exp.Sub(iat.Time) != DefaultRefreshLifetime {
		t.Errorf("refresh token aud %v, life %s; want %s, %s", claims["aud"], exp.Sub(iat.Time), a.Host, DefaultRefreshLifetime)
	}

	// Push straight to upstream through no front: the front is pull only.
	img, _ := random.Image(256, 1)
	ref := a.Host + "/team/app:v1"
	ctx := crane.WithContext(testCtx(t))
	if err := crane.Push(img, upstreamOf(t, a)+"/team/app:v1", ctx, crane.Insecure); err != nil {
		t.Fatal(err)
	}
	good := crane.WithAuth(&authn.Basic{Username: NullUser, Password: rt})
	want, _ := img.Digest()
	if got, err := crane.Digest(ref, good, ctx, crane.Insecure); err != nil || got != want.String() {
		t.Fatalf("pull with the refresh token: %q, %v; want %s", got, err, want)
	}
	if s.CallCount(EndpointACRToken) == 0 {
		t.Error("crane did not go through /oauth2/token")
	}
	// The refresh token as an identity token: crane posts the refresh grant.
	idTok := crane.WithAuth(authn.FromConfig(authn.AuthConfig{Username: NullUser, IdentityToken: rt}))
	if _, err := crane.Digest(ref, idTok, ctx, crane.Insecure); err != nil {
		t.Errorf("pull with the refresh-token grant: %v", err)
	}
	for name, opt := range map[string]crane.Option{
		"anonymous":             ctx,
		"another registry's":    crane.WithAuth(&authn.Basic{Username: NullUser, Password: refreshToken(t, b, entraToken(t, s, ACRScope))}),
		"the Entra token":       crane.WithAuth(&authn.Basic{Username: NullUser, Password: entraToken(t, s, ACRScope)}),
		"the right token, user": crane.WithAuth(&authn.Basic{Username: "someone", Password: rt}),
	} {
		_, err := crane.Digest(ref, opt, ctx, crane.Insecure)
		checkUnauthorized(t, name, err)
	}
	if err := crane.Push(img, ref+"-2", good, ctx, crane.Insecure); err == nil {
		t.Error("a push went through the pull-only front")
	}
	a.Revoke(appID)
	_, err := crane.Digest(ref, good, ctx, crane.Insecure)
	checkUnauthorized(t, "revoked", err)
}

// upstreamOf is the host of the registry behind r.
func upstreamOf(t *testing.T, r *Registry) string {
	t.Helper()
	return r.upstream.Host
}

// checkUnauthorized checks that a registry client got 401.
func checkUnauthorized(t *testing.T, name string, err error) {
	t.Helper()
	var terr *transport.Error
	if !errors.As(err, &terr) || terr.StatusCode != http.StatusUnauthorized {
		t.Errorf("%s: %v, want 401", name, err)
	}
}

// TestExchangeRefusals: what the exchange checks.
func TestExchangeRefusals(t *testing.T) {
	s := Start(t, WithARMScope())
	s.AddClientSecret(DefaultTenant, appID, secretV)
	r := startRegistry(t, s)
	good := entraToken(t, s, ACRScope)
	arm := entraToken(t, s, ARMScope)
	forged := forge(t, good)
	r.Grant(appID)
	for _, tc := range []struct {
		name   string
		setup  func()
		form   url.Values
		status int
	}{
		{"ACR audience", nil, exchangeForm(r, DefaultTenant, good), 200},
		{"no tenant", nil, url.Values{"grant_type": {"access_token"}, "service": {r.Host}, "access_token": {good}}, 200},
		{"ARM audience allowed", nil, exchangeForm(r, DefaultTenant, arm), 200},
		{"ARM audience disabled", func() { r.DisableARMAudience(true) }, exchangeForm(r, DefaultTenant, arm), 401},
		{"ACR audience with ARM disabled", nil, exchangeForm(r, DefaultTenant, good), 200},
		{"other tenant", nil, exchangeForm(r, "00000000-0000-0000-0000-0000000000aa", good), 401},
		{"other service", nil, url.Values{"grant_type": {"access_token"}, "service": {"other.azurecr.io"}, "access_token": {good}}, 400},
		{"wrong grant", nil, url.Values{"grant_type": {"password"}, "service": {r.Host}, "access_token": {good}}, 400},
		{"forged", nil, exchangeForm(r, DefaultTenant, forged), 401},
		{"no AcrPull", func() { r.Revoke(appID) }, exchangeForm(r, DefaultTenant, good), 401},
	} {
		if tc.setup != nil {
			tc.setup()
		}
		if status, body := exchange(t, r, tc.form); status != tc.status {
			t.Errorf("%s: %d %v, want %d", tc.name, status, body, tc.status)
		}
	}
	resp, err := http.Get(r.URL + "/oauth2/exchange")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("GET /oauth2/exchange: %d, want 404 as ACR", resp.StatusCode)
	}
}

// forge returns tok with its payload changed (the signature no longer holds).
func forge(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, claims); err != nil {
		t.Fatal(err)
	}
	claims["oid"] = "someone-else"
	other, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("k"))
	return parts[0] + "." + strings.Split(other, ".")[1] + "." + parts[2]
}

// TestExpiryAndSkew: an Entra token that has expired by the server's
// clock is refused at the exchange; a skewed server issues refresh tokens
// whose iat is off by the skew.
func TestExpiryAndSkew(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := &now
	s := Start(t, WithNow(func() time.Time { return *clock }))
	s.AddClientSecret(DefaultTenant, appID, secretV)
	r := startRegistry(t, s)
	r.Grant(appID)
	tok := entraToken(t, s, ACRScope)
	now = now.Add(2 * time.Hour)
	if status, _ := exchange(t, r, exchangeForm(r, DefaultTenant, tok)); status != 401 {
		t.Errorf("expired Entra token: %d, want 401", status)
	}
	s.SetClockSkew(-10 * time.Minute)
	rt := refreshToken(t, r, entraToken(t, s, ACRScope))
	claims := jwt.MapClaims{}
	_, _, _ = jwt.NewParser().ParseUnverified(rt, claims)
	if iat, _ := claims.GetIssuedAt(); !iat.Equal(now.Add(-10 * time.Minute)) {
		t.Errorf("iat %s, want %s", iat, now.Add(-10*time.Minute))
	}
}

// TestRegistryFaults: faults on the exchange, in the registry's shape.
func TestRegistryFaults(t *testing.T) {
	s := Start(t)
	s.AddClientSecret(DefaultTenant, appID, secretV)
	r := startRegistry(t, s)
	r.Grant(appID)
	tok := entraToken(t, s, ACRScope)
	for _, tc := range []struct {
		fault  Fault
		status int
	}{{ServerError, 500}, {ServiceUnavailable, 503}, {Throttled, 429}, {InvalidGrant, 401}} {
		s.Inject(tc.fault, EndpointExchange, 1)
		if status, body := exchange(t, r, exchangeForm(r, DefaultTenant, tok)); status != tc.status {
			t.Errorf("%s: %d %v, want %d", tc.fault, status, body, tc.status)
		}
	}
	s.Inject(Expired, EndpointExchange, 1)
	rt := refreshToken(t, r, tok)
	if _, err := s.verify(rt, kindRefresh); !errors.Is(err, errExpired) {
		t.Errorf("Expired fault's refresh token: %v, want expired", err)
	}
	s.Inject(Hang, EndpointExchange, 1)
	ctx, cancel := context.WithCancel(testCtx(t))
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.URL+"/oauth2/exchange", strings.NewReader(exchangeForm(r, DefaultTenant, tok).Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	waitHanging(t, s, 1)
	cancel()
	if err := <-done; err == nil {
		t.Error("a hung exchange answered")
	}
	if err := s.WaitCalls(testCtx(t), EndpointExchange, 6); err != nil {
		t.Error(err)
	}
}
