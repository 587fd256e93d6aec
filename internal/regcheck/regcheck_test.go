package regcheck

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ocicred/ocicred/config"
)

// challenger is a registry whose /v2/ sends clients to realm for a
// token, and whose token endpoint takes Basic user:secret.
func challenger(t *testing.T, realm func(self string) string) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v2/":
			if r.Header.Get("Authorization") == "Bearer registry-token" {
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm(srv.URL)+`",service="reg"`)
			w.WriteHeader(http.StatusUnauthorized)
		case "/token":
			if u, p, ok := r.BasicAuth(); !ok || u != "oauth2accesstoken" || p != "cloud-token" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			_, _ = w.Write([]byte(`{"token":"registry-token"}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func registry(t *testing.T, typ, url string) *config.Registry {
	t.Helper()
	c, err := config.Parse([]byte("registries:\n  - {name: r, type: "+typ+", endpoint: '"+url+"'}\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c.Registries[0]
}

func TestCheckFollowsBearerOnTheSameHost(t *testing.T) {
	srv := challenger(t, func(self string) string { return self + "/token" })
	reg := registry(t, config.TypeGAR, srv.URL)
	if err := Check(context.Background(), reg, "oauth2accesstoken", "cloud-token"); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if err := Check(context.Background(), reg, "oauth2accesstoken", "wrong"); err == nil {
		t.Fatal("Check accepted a token the registry refuses")
	}
}

func TestCheckRefusesAForeignRealm(t *testing.T) {
	var got atomic.Int32
	thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1) }))
	t.Cleanup(thief.Close)
	// A host name, not an IP: go-containerregistry itself refuses a realm
	// at a private IP, which would hide what sameHost does.
	foreign := strings.Replace(thief.URL, "127.0.0.1", "localhost", 1) + "/token"
	srv := challenger(t, func(string) string { return foreign })
	for _, typ := range []string{config.TypeGAR, config.TypeACR} {
		reg := registry(t, typ, srv.URL)
		err := Check(context.Background(), reg, reg.User(), "cloud-token")
		if !errors.Is(err, ErrForeignRealm) {
			t.Errorf("%s: Check = %v, want ErrForeignRealm", typ, err)
		}
		if err != nil && strings.Contains(err.Error(), "cloud-token") {
			t.Errorf("%s: the error holds the token: %v", typ, err)
		}
	}
	if n := got.Load(); n != 0 {
		t.Errorf("the foreign realm got %d requests", n)
	}
}
