package gcpfake

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"golang.org/x/oauth2/google"
)

// pushed pushes a random image to the open registry and returns its
// reference through the front.
func pushed(t *testing.T, front, open string) string {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := crane.Push(img, open+"/proj/repo/app:v1", crane.Insecure); err != nil {
		t.Fatalf("push: %v", err)
	}
	return front + "/proj/repo/app:v1"
}

// TestRegistryFrontPull: crane pulls through the front with Basic
// user:<access token> on the Bearer realm the front names, for each user
// name Artifact Registry takes, when the token's principal is a reader.
func TestRegistryFrontPull(t *testing.T) {
	srv := Start(t)
	front, open := startFront(t, srv)
	ref := pushed(t, front, open)
	k := srv.NewKey(testSA)
	srv.GrantReader(testSA)
	tok, err := libToken(t, k.JSON(), google.ServiceAccount, CloudPlatformScope)
	if err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{RegistryUser, "_token", "_dcgcr_2_1_30_token", "_dcgcloud_token"} {
		auth := authn.FromConfig(authn.AuthConfig{Username: user, Password: tok.AccessToken})
		if _, err := crane.Manifest(ref, crane.Insecure, crane.WithAuth(auth)); err != nil {
			t.Errorf("%s: %v", user, err)
		}
	}
	rt := srv.CallsOf(EndpointRegistryToken)
	if len(rt) != 4 || rt[0].Principal != testSA || rt[0].Status != 200 {
		t.Errorf("token calls %+v", rt)
	}
}

// TestRegistryFrontRefusals: what Artifact Registry refuses, the front
// refuses: no credentials, a wrong user name, an unknown or expired token,
// a scope that does not cover the registry, a principal that is no reader.
func TestRegistryFrontRefusals(t *testing.T) {
	c := &clock{}
	srv := Start(t, WithNow(c.Now))
	front, open := startFront(t, srv)
	ref := pushed(t, front, open)
	reader, stranger := srv.NewKey(testSA), srv.NewKey("stranger@ocicred-test.iam.gserviceaccount.com")
	srv.GrantReader(testSA)
	good, _ := libToken(t, reader.JSON(), google.ServiceAccount, CloudPlatformScope)
	narrow, _ := libToken(t, reader.JSON(), google.ServiceAccount, "https://www.googleapis.com/auth/userinfo.email")
	storage, _ := libToken(t, reader.JSON(), google.ServiceAccount, "https://www.googleapis.com/auth/devstorage.read_only")
	other, _ := libToken(t, stranger.JSON(), google.ServiceAccount, CloudPlatformScope)
	tests := []struct {
		name       string
		user, pass string
		status     int
	}{
		{"anonymous", "", "", http.StatusUnauthorized},
		{"unversioned dcgcr", "_dcgcr__token", good.AccessToken, http.StatusUnauthorized},
		{"json key user", "_json_key", good.AccessToken, http.StatusUnauthorized},
		{"unknown token", RegistryUser, "ya29.not-issued", http.StatusUnauthorized},
		{"narrow scope", RegistryUser, narrow.AccessToken, http.StatusUnauthorized},
		{"not a reader", RegistryUser, other.AccessToken, http.StatusForbidden},
		{"storage scope", RegistryUser, storage.AccessToken, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			auth := authn.Anonymous
			if tt.user != "" {
				auth = authn.FromConfig(authn.AuthConfig{Username: tt.user, Password: tt.pass})
			}
			_, err := crane.Manifest(ref, crane.Insecure, crane.WithAuth(auth))
			if tt.status == 0 {
				if err != nil {
					t.Fatalf("pull: %v", err)
				}
				return
			}
			var te *transport.Error
			if !errors.As(err, &te) || te.StatusCode != tt.status {
				t.Fatalf("got %v, want status %d", err, tt.status)
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		c.Set(time.Hour)
		defer c.Set(0)
		_, err := crane.Manifest(ref, crane.Insecure, crane.WithAuth(&authn.Basic{Username: RegistryUser, Password: good.AccessToken}))
		var te *transport.Error
		if !errors.As(err, &te) || te.StatusCode != http.StatusUnauthorized {
			t.Fatalf("got %v, want 401", err)
		}
	})
}

// TestRegistryChallenge: /v2/ without a registry token names the realm
// on the host the client used.
func TestRegistryChallenge(t *testing.T) {
	srv := Start(t)
	front, _ := startFront(t, srv)
	resp, err := http.Get("http://" + front + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := `Bearer realm="http://` + front + `/v2/token",service="` + front + `"`
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != want {
		t.Errorf("%d %q, want 401 %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), want)
	}
}
