package gartoken

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/test/fakekit"
	"github.com/ocicred/ocicred/test/gcpfake"
)

// Identities of the tests.
const (
	testSA     = "puller@ocicred-test.iam.gserviceaccount.com"
	testTarget = "target@ocicred-test.iam.gserviceaccount.com"
	testVM     = "123456-compute@developer.gserviceaccount.com"
	testAud    = "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/pool/providers/prov"
	testFed    = "principal://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/pool/subject/ci"
	jwtType    = "urn:ietf:params:oauth:token-type:jwt"
	testHost   = "europe-west3-docker.pkg.dev"
)

// clock is the wall clock moved by a settable offset. x/oauth2 signs
// assertions with the wall clock; the fake and the Fetcher read this one.
type clock = fakekit.Clock

// isolate keeps Google settings of whoever runs the tests away: no
// GOOGLE_APPLICATION_CREDENTIALS, a HOME without gcloud files, and no
// metadata server unless the test starts one.
func isolate(t *testing.T) {
	t.Helper()
	for _, k := range []string{"GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG", "GCE_METADATA_HOST",
		"GOOGLE_CLOUD_PROJECT", "HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"} {
		t.Setenv(k, "")
		if err := os.Unsetenv(k); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("HOME", t.TempDir())
}

// env is one test's fake, clock and Fetcher.
type env struct {
	srv   *gcpfake.Server
	clock *clock
	f     *Fetcher
	seen  *recorder
}

// start starts the fake (opts are gcpfake's), points GCE_METADATA_HOST at
// it, and makes a Fetcher that sends IAM calls there and reads c.Now.
func start(t *testing.T, opts ...gcpfake.Option) *env {
	t.Helper()
	isolate(t)
	c := &clock{}
	srv := gcpfake.Start(t, append([]gcpfake.Option{gcpfake.WithNow(c.Now)}, opts...)...)
	srv.Setenv(t)
	rec := &recorder{base: http.DefaultTransport}
	return &env{srv: srv, clock: c, seen: rec, f: newFetcher(srv, c, rec)}
}

// newFetcher is a Fetcher for srv with clock c, carried by rt.
func newFetcher(srv *gcpfake.Server, c *clock, rt http.RoundTripper, opts ...Option) *Fetcher {
	return NewFetcher(append([]Option{WithIAMCredentialsURL(srv.IAMCredentialsURL()), WithNow(c.Now),
		WithTransport(rt), WithMetadataTimeout(2 * time.Second)}, opts...)...)
}

// recorder carries requests to their server and remembers every
// Authorization header and body sent, so that tests can look for secrets
// where they must not be, and count requests per fetch.
type recorder struct {
	base  http.RoundTripper
	mu    sync.Mutex
	reqs  []string // "METHOD host/path"
	auths []string // the credentials of Authorization headers sent
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Method+" "+req.URL.Host+req.URL.Path)
	if _, cred, ok := strings.Cut(req.Header.Get("Authorization"), " "); ok {
		r.auths = append(r.auths, cred)
	}
	r.mu.Unlock()
	return r.base.RoundTrip(req)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

// registry parses a one-registry config body and resolves its secrets.
func registry(t *testing.T, creds string) *config.Registry {
	t.Helper()
	yaml := "registries:\n  - name: r\n    type: gar\n    endpoint: " + testHost + "\n"
	if creds != "" {
		yaml += "    credentials: " + creds + "\n"
	}
	cfg, err := config.Parse([]byte(yaml), "c.yaml")
	if err != nil {
		t.Fatalf("config:\n%s\n%v", yaml, err)
	}
	if err := cfg.ResolveSecrets(config.OS); err != nil {
		t.Fatalf("secrets: %v", err)
	}
	return cfg.Registries[0]
}

// writeFile writes data to name in a fresh temp folder, mode 0600, and
// returns its path.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// keyRegistry is a serviceAccountKey registry with a fresh key of email.
func (e *env) keyRegistry(t *testing.T, email string) (*config.Registry, *gcpfake.Key) {
	t.Helper()
	k := e.srv.NewKey(email)
	return registry(t, "{type: serviceAccountKey, keyFile: "+writeFile(t, "key.json", k.JSON())+"}"), k
}

// externalAccount writes an external_account file whose file source holds
// subject, impersonating target when given, and returns its path.
func (e *env) externalAccount(t *testing.T, subject, target string) string {
	t.Helper()
	imp := ""
	if target != "" {
		imp = `"service_account_impersonation_url": "` + e.srv.ImpersonationURL(target) + `",`
	}
	tokenFile := writeFile(t, "subject", []byte(subject))
	return writeFile(t, "wif.json", []byte(`{"type": "external_account", "audience": "`+testAud+`",
  "subject_token_type": "`+jwtType+`", "token_url": "`+e.srv.STSURL()+`", `+imp+`
  "credential_source": {"file": "`+tokenFile+`"}}`))
}

// testCtx bounds a test's calls well below the test timeout.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// noLeak fails t when any of texts holds one of secrets.
func noLeak(t *testing.T, secrets []string, texts ...string) {
	t.Helper()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, txt := range texts {
			if strings.Contains(txt, s) {
				t.Errorf("a secret (%.8s…) is in %q", s, txt)
			}
		}
	}
}

// writeAt writes data at path, mode 0600.
func writeAt(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// newSubjectServer serves subject as a url credential source, only to
// requests that carry the header name: value.
func newSubjectServer(t *testing.T, subject, name, value string) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(name) != value {
			http.Error(w, "missing header", http.StatusForbidden)
			return
		}
		_, _ = w.Write([]byte(subject))
	}))
	t.Cleanup(s.Close)
	return s.URL + "/token"
}

// sentCredentials are the credentials every request carried: the tokens
// the Fetcher had from Google and showed to it.
func (r *recorder) sentCredentials() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.auths...)
}
