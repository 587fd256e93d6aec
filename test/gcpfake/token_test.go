package gcpfake

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2/google"
	"golang.org/x/oauth2/jwt"
)

// TestJWTBearer: a key the fake made gets a token for its account, with
// the scopes asked for, through the real library.
func TestJWTBearer(t *testing.T) {
	srv := Start(t)
	k := srv.NewKey(testSA)
	tok, err := libToken(t, k.JSON(), google.ServiceAccount, CloudPlatformScope)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if who, ok := srv.TokenOwner(tok.AccessToken); !ok || who != testSA {
		t.Errorf("token owner %q (valid %v), want %s", who, ok, testSA)
	}
	if left := time.Until(tok.Expiry); left < 50*time.Minute || left > time.Hour {
		t.Errorf("token lasts %s, want about an hour", left)
	}
	calls := srv.CallsOf(EndpointToken)
	if len(calls) != 1 || calls[0].Principal != testSA || calls[0].Status != 200 ||
		len(calls[0].Scopes) != 1 || calls[0].Scopes[0] != CloudPlatformScope {
		t.Errorf("calls %+v", calls)
	}
}

// TestJWTBearerRefusals: each check of the token endpoint refuses what
// Google refuses, with Google's error code.
func TestJWTBearerRefusals(t *testing.T) {
	tests := []struct {
		name string
		// token gets a token for the test's server and key.
		token func(t *testing.T, srv *Server, k *Key) error
		desc  string // the error description contains this
	}{
		{"deleted key", func(t *testing.T, srv *Server, k *Key) error {
			srv.DeleteKey(k)
			_, err := libToken(t, k.JSON(), google.ServiceAccount, CloudPlatformScope)
			return err
		}, accountNotFound},
		{"another account's key id", func(t *testing.T, srv *Server, k *Key) error {
			other := srv.NewKey("other@ocicred-test.iam.gserviceaccount.com")
			k2 := *k
			k2.ID = other.ID
			_, err := libToken(t, k2.JSON(), google.ServiceAccount, CloudPlatformScope)
			return err
		}, accountNotFound},
		{"wrong private key", func(t *testing.T, srv *Server, k *Key) error {
			priv, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				t.Fatal(err)
			}
			k2 := *k
			k2.private = priv
			_, err = libToken(t, k2.JSON(), google.ServiceAccount, CloudPlatformScope)
			return err
		}, badSignature},
		{"wrong audience", func(t *testing.T, srv *Server, k *Key) error {
			cfg, err := google.JWTConfigFromJSON(k.JSON(), CloudPlatformScope)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Audience = "https://oauth2.googleapis.com/token"
			_, err = cfg.TokenSource(context.Background()).Token()
			return err
		}, "Failed audience check"},
		{"too long", func(t *testing.T, srv *Server, k *Key) error {
			cfg, _ := google.JWTConfigFromJSON(k.JSON(), CloudPlatformScope)
			cfg.Expires = 2 * time.Hour
			_, err := cfg.TokenSource(context.Background()).Token()
			return err
		}, "short-lived"},
		{"no scope", func(t *testing.T, srv *Server, k *Key) error {
			cfg, _ := google.JWTConfigFromJSON(k.JSON())
			_, err := cfg.TokenSource(context.Background()).Token()
			return err
		}, "Invalid OAuth scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := Start(t)
			k := srv.NewKey(testSA)
			err := tt.token(t, srv, k)
			if status, _, desc := oauthErr(err); status != 400 || !strings.Contains(desc, tt.desc) {
				t.Fatalf("got %v, want 400 with %q", err, tt.desc)
			}
			if c := srv.CallsOf(EndpointToken); len(c) != 1 || c[0].Status != 400 {
				t.Errorf("calls %+v", c)
			}
		})
	}
}

// TestJWTBearerClock: an assertion the fake's clock finds expired, or
// issued more than a minute ahead, gets invalid_grant with Google's text;
// a minute's skew either way is taken.
func TestJWTBearerClock(t *testing.T) {
	for _, tt := range []struct {
		off time.Duration
		ok  bool
	}{
		{0, true},
		{-50 * time.Second, true}, // the library back-dates iat by 10 s
		{50 * time.Minute, true},
		{-2 * time.Minute, false},
		{2 * time.Hour, false},
	} {
		t.Run(tt.off.String(), func(t *testing.T) {
			c := &clock{}
			srv := Start(t, WithNow(c.Now))
			k := srv.NewKey(testSA)
			c.Set(tt.off)
			_, err := libToken(t, k.JSON(), google.ServiceAccount, CloudPlatformScope)
			if tt.ok {
				if err != nil {
					t.Fatalf("Token: %v", err)
				}
				return
			}
			if _, code, desc := oauthErr(err); code != "invalid_grant" || desc != SkewDescription {
				t.Fatalf("got %v, want invalid_grant with the skew text", err)
			}
		})
	}
}

// TestTokenEndpointNeedsForm: a JSON body or another grant is refused.
func TestTokenEndpointNeedsForm(t *testing.T) {
	srv := Start(t)
	for _, tt := range []struct{ ctype, body, code string }{
		{"application/json", `{"grant_type":"` + jwtBearer + `"}`, "invalid_request"},
		{"application/x-www-form-urlencoded", url.Values{"grant_type": {"client_credentials"}}.Encode(), "unsupported_grant_type"},
		{"application/x-www-form-urlencoded", url.Values{"grant_type": {jwtBearer}, "assertion": {"a.b.c"}}.Encode(), "invalid_grant"},
	} {
		resp, err := http.Post(srv.TokenURL(), tt.ctype, strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s %s: %d", tt.ctype, tt.body, resp.StatusCode)
		}
		if c := srv.Calls(); c[len(c)-1].Error != tt.code {
			t.Errorf("%s: error %q, want %q", tt.body, c[len(c)-1].Error, tt.code)
		}
	}
}

// TestJWTWithLibraryJWTPackage: the x/oauth2/jwt flow (what
// JWTConfigFromJSON builds) is what the fake verifies, subject claim and all.
func TestJWTWithLibraryJWTPackage(t *testing.T) {
	srv := Start(t)
	k := srv.NewKey(testSA)
	cfg := &jwt.Config{Email: k.Email, PrivateKey: []byte(mustPEM(t, k)), PrivateKeyID: k.ID,
		Scopes: []string{CloudPlatformScope}, TokenURL: srv.TokenURL(), Subject: "user@example.com"}
	if _, err := cfg.TokenSource(context.Background()).Token(); err != nil {
		t.Fatalf("Token: %v", err)
	}
}

func mustPEM(t *testing.T, k *Key) string {
	t.Helper()
	var kf keyFile
	if err := jsonUnmarshal(k.JSON(), &kf); err != nil {
		t.Fatal(err)
	}
	return kf.PrivateKey
}
