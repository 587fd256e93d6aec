package gcpfake

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ocicred/ocicred/test/fakekit"
)

// Server is a fake of Google's OAuth2 token endpoint, the GCE metadata
// server, STS and IAM Credentials, listening on URL. It is safe for
// concurrent use; its switches may be flipped while requests run.
type Server struct {
	// URL is the base URL of every endpoint, e.g. http://127.0.0.1:1234.
	URL string

	opts      options
	hs        *httptest.Server
	closing   chan struct{} // closed by Close; releases hung requests
	closeOnce sync.Once

	calls  fakekit.Log[Call]
	faults fakekit.Faults[Fault]

	mu    sync.Mutex
	state state
}

// state is everything guarded by Server.mu.
type state struct {
	keys     map[string]*Key   // service-account keys by private_key_id
	tokens   map[string]issued // access tokens by value
	regToks  map[string]issued // registry bearer tokens by value
	readers  map[string]bool   // principals that may pull
	canAct   map[string]map[string]bool
	subjects map[string]Subject // STS subject tokens by value
	metaSA   string             // the metadata server's default service account; "" for none
	metaSc   []string           // its access scopes
}

// New starts a server on a loopback port. Close it when done.
func New(opts ...Option) *Server {
	o := defaults()
	for _, fn := range opts {
		fn(&o)
	}
	s := &Server{opts: o, closing: make(chan struct{})}
	s.state = state{
		keys:     map[string]*Key{},
		tokens:   map[string]issued{},
		regToks:  map[string]issued{},
		readers:  map[string]bool{},
		canAct:   map[string]map[string]bool{},
		subjects: map[string]Subject{},
		metaSA:   o.metadataAccount,
		metaSc:   []string{CloudPlatformScope},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", s.serveToken)
	mux.HandleFunc("/computeMetadata/", s.serveMetadata)
	mux.HandleFunc("GET /{$}", s.serveMetadataRoot)
	mux.HandleFunc("POST /v1/token", s.serveSTS)
	mux.HandleFunc("POST /v1/projects/-/serviceAccounts/", s.serveIAM)
	s.hs = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Google's answers carry its time; the fake's is its clock's.
		w.Header().Set("Date", s.opts.now().UTC().Format(http.TimeFormat))
		mux.ServeHTTP(w, r)
	}))
	s.URL = s.hs.URL
	return s
}

// Start starts a server for one test, logs to t.Log unless WithLogger is
// given, and closes the server when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	opts = append([]Option{WithLogger(fakekit.TestLogger(t))}, opts...)
	s := New(opts...)
	t.Cleanup(s.Close)
	return s
}

// Close releases hung requests and stops the server. It is safe to call
// more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.hs.Close()
	})
}

// TokenURL is the JWT-bearer token endpoint, the token_uri of the keys
// NewKey makes and the audience their assertions must name.
func (s *Server) TokenURL() string { return s.URL + "/token" }

// STSURL is the token-exchange endpoint, for an external_account file's
// token_url.
func (s *Server) STSURL() string { return s.URL + "/v1/token" }

// IAMCredentialsURL is the base of IAM Credentials, in place of
// https://iamcredentials.googleapis.com.
func (s *Server) IAMCredentialsURL() string { return s.URL }

// ImpersonationURL is generateAccessToken's URL for the service account
// email, for an external_account file's service_account_impersonation_url.
func (s *Server) ImpersonationURL(email string) string {
	return s.URL + "/v1/projects/-/serviceAccounts/" + email + ":generateAccessToken"
}

// MetadataHost is the value of GCE_METADATA_HOST that points a client at
// this server's metadata endpoints: "127.0.0.1:PORT".
func (s *Server) MetadataHost() string { return strings.TrimPrefix(s.URL, "http://") }

// Setenv points GCE_METADATA_HOST at this server for the rest of test t
// (not for parallel tests: the variable is process-wide).
func (s *Server) Setenv(t testing.TB) {
	t.Helper()
	t.Setenv("GCE_METADATA_HOST", s.MetadataHost())
}

// randomString returns n random bytes in URL-safe base64 without padding.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
