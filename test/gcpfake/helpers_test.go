package gcpfake

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/ocicred/ocicred/test/fakekit"
)

const (
	testSA     = "puller@ocicred-test.iam.gserviceaccount.com"
	testTarget = "target@ocicred-test.iam.gserviceaccount.com"
	testAud    = "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/pool/providers/prov"
	jwtType    = "urn:ietf:params:oauth:token-type:jwt"
	testFed    = "principal://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/pool/subject/ci"
)

// clock is the wall clock moved by a settable offset: the libraries sign
// with the wall clock, the fake checks with this one.
type clock = fakekit.Clock

// testCtx bounds a test's calls well below the test timeout.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// libToken gets a token from credentials JSON of type typ with the real
// x/oauth2 library, through the default HTTP client.
func libToken(t *testing.T, data []byte, typ google.CredentialsType, scopes ...string) (*oauth2.Token, error) {
	t.Helper()
	ctx := context.WithValue(testCtx(t), oauth2.HTTPClient, &http.Client{Timeout: 10 * time.Second})
	cr, err := google.CredentialsFromJSONWithTypeAndParams(ctx, data, typ, google.CredentialsParams{Scopes: scopes})
	if err != nil {
		t.Fatalf("credentials: %v", err)
	}
	return cr.TokenSource.Token()
}

// writeFile writes data to name in a fresh temp folder and returns its path.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// externalAccount is an external_account file for srv's STS with a file
// credential source at tokenFile, and an impersonation URL when target
// is given.
func externalAccount(srv *Server, tokenFile, target string) []byte {
	imp := ""
	if target != "" {
		imp = `"service_account_impersonation_url": "` + srv.ImpersonationURL(target) + `",`
	}
	return []byte(`{"type": "external_account", "audience": "` + testAud + `",
  "subject_token_type": "` + jwtType + `", "token_url": "` + srv.STSURL() + `", ` + imp + `
  "credential_source": {"file": "` + tokenFile + `"}}`)
}

// startFront runs an in-memory registry behind srv's registry front and
// returns the front's host and the registry's own (no auth).
func startFront(t *testing.T, srv *Server) (front, open string) {
	t.Helper()
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("the front forwarded an Authorization header to %s", r.URL.Path)
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(upstream.Close)
	u, err := url.Parse(upstream.URL)
	if err != nil {
		t.Fatal(err)
	}
	fs := httptest.NewServer(NewRegistryFront(srv, u))
	t.Cleanup(fs.Close)
	return strings.TrimPrefix(fs.URL, "http://"), u.Host
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// oauthErr is the OAuth2 error code and description of a library error
// that carries the answer (the jwt flow leaves RetrieveError's ErrorCode
// empty, so the body is read); status 0 when err carries none.
func oauthErr(err error) (status int, code, desc string) {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return 0, "", ""
	}
	var a struct {
		Error string `json:"error"`
		Desc  string `json:"error_description"`
	}
	_ = json.Unmarshal(re.Body, &a)
	return re.Response.StatusCode, a.Error, a.Desc
}
