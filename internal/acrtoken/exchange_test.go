package acrtoken

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ocicred/ocicred/config"
)

// jwtWith is an unsigned JWT whose payload is claims.
func jwtWith(t *testing.T, claims any) string {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(b) + ".c2ln"
}

// TestRefreshToken: what acrtoken accepts from the exchange, and how it
// dates it.
func TestRefreshToken(t *testing.T) {
	reg := &config.Registry{Name: "r", Type: config.TypeACR, Host: "contoso.azurecr.io", Scheme: "https"}
	received := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	iat := received.Add(-90 * time.Second).Unix() // ACR's clock 90 s behind
	for _, tc := range []struct {
		name string
		tok  string
		ok   bool
	}{
		{"good", jwtWith(t, map[string]any{"aud": "contoso.azurecr.io", "iat": iat, "exp": iat + 10800}), true},
		{"aud list, other case", jwtWith(t, map[string]any{"aud": []string{"x", "Contoso.AzureCR.io"}, "iat": iat, "exp": iat + 10800}), true},
		{"padded payload", strings.Replace(jwtWith(t, map[string]any{"aud": "contoso.azurecr.io", "iat": iat, "exp": iat + 10800}), ".c2ln", "", 1) + "==.c2ln", true},
		{"other registry", jwtWith(t, map[string]any{"aud": "evil.azurecr.io", "iat": iat, "exp": iat + 10800}), false},
		{"no aud", jwtWith(t, map[string]any{"iat": iat, "exp": iat + 10800}), false},
		{"no exp", jwtWith(t, map[string]any{"aud": "contoso.azurecr.io", "iat": iat}), false},
		{"exp before iat", jwtWith(t, map[string]any{"aud": "contoso.azurecr.io", "iat": iat, "exp": iat - 1}), false},
		{"not a JWT", "opaque-token", false},
		{"payload not base64", "a.!!!.c", false},
		{"payload not JSON", "a." + base64.RawURLEncoding.EncodeToString([]byte("[1,2")) + ".c", false},
	} {
		tok, err := refreshToken(reg, tc.tok, received)
		if !tc.ok {
			f := wantFailure(t, err, KindBadToken, "")
			if strings.Contains(f.Msg, tc.tok) {
				t.Errorf("%s: the message quotes the token: %s", tc.name, f.Msg)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !tok.ExpiresAt.Equal(received.Add(3*time.Hour)) || tok.Skew != -90*time.Second || tok.Password.Reveal() != tc.tok {
			t.Errorf("%s: ExpiresAt %s, Skew %s; want receipt+3h, -90s", tc.name, tok.ExpiresAt, tok.Skew)
		}
	}
}

// TestExchangeOnlyAtTheEndpoint: the exchange goes to the configured
// endpoint, with ACR's form, and a redirect elsewhere is not followed
// (the Entra token never leaves for another host).
func TestExchangeOnlyAtTheEndpoint(t *testing.T) {
	stolen := 0
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { stolen++ }))
	defer elsewhere.Close()
	var form url.Values
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		form = r.PostForm
		if r.URL.Path != "/oauth2/exchange" || r.Method != http.MethodPost {
			t.Errorf("%s %s, want POST /oauth2/exchange", r.Method, r.URL.Path)
		}
		http.Redirect(w, r, elsewhere.URL+"/oauth2/exchange", http.StatusTemporaryRedirect)
	}))
	defer endpoint.Close()
	host := strings.TrimPrefix(endpoint.URL, "http://")
	reg := &config.Registry{Name: "r", Type: config.TypeACR, Host: host, Scheme: "http"}
	f := NewFetcher()
	_, err := f.exchange(testCtx(t), reg, tenant, "entra.token.value")
	wantFailure(t, Explain(err), KindOther, "HTTP 307")
	if stolen != 0 {
		t.Error("the redirect was followed: the Entra token went to another host")
	}
	want := url.Values{"grant_type": {"access_token"}, "service": {host}, "tenant": {tenant}, "access_token": {"entra.token.value"}}
	if form.Encode() != want.Encode() {
		t.Errorf("form %v, want %v", form, want)
	}
}

// TestNoProxyForIMDS: IMDS never goes through a proxy; the rest follows
// the environment's proxy settings.
func TestNoProxyForIMDS(t *testing.T) {
	proxy, _ := url.Parse("http://proxy.example:3128")
	p := noIMDSProxy(func(*http.Request) (*url.URL, error) { return proxy, nil })
	for u, want := range map[string]*url.URL{
		"http://169.254.169.254/metadata/identity/oauth2/token": nil,
		"https://login.microsoftonline.com/t/oauth2/v2.0/token": proxy,
		"https://contoso.azurecr.io/oauth2/exchange":            proxy,
	} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if got, _ := p(req); got != want {
			t.Errorf("proxy for %s = %v, want %v", u, got, want)
		}
	}
	if newTransport().Proxy == nil {
		t.Error("the production transport lost its proxy function")
	}
}
