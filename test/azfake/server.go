package azfake

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocicred/ocicred/test/fakekit"
)

// Server is a fake of Entra ID, the managed-identity endpoints and ACR.
// It is safe for concurrent use; its switches may be flipped while
// requests run.
type Server struct {
	// URL is Entra ID's base URL, https://127.0.0.1:PORT, served over TLS
	// with the server's own CA (CAFile, Transport). It is the authority
	// host to give azidentity.
	URL string
	// IMDSURL is the managed-identity endpoint's base URL, plain HTTP as
	// IMDS is: http://127.0.0.1:PORT. Transport sends requests for
	// 169.254.169.254 there.
	IMDSURL string
	// CAFile is a PEM file holding the CA that signed URL's certificate,
	// for SSL_CERT_FILE in a subprocess.
	CAFile string

	opts      options
	entra     *httptest.Server
	imds      *httptest.Server
	key       *rsa.PrivateKey // signs every token the server issues
	dir       string          // holds CAFile
	closing   chan struct{}   // closed by Close; releases hung requests
	closeOnce sync.Once

	calls  fakekit.Log[Call]
	faults fakekit.Faults[Fault]

	mu          sync.Mutex
	skew        time.Duration
	apps        map[string]*app // by tenant + "/" + client id
	identities  []*ManagedIdentity
	registries  []*Registry
	identityHdr string // the App Service IDENTITY_HEADER value
}

// New starts a server on loopback ports. Close it when done.
func New(opts ...Option) (*Server, error) {
	o := defaults()
	for _, fn := range opts {
		fn(&o)
	}
	key, err := signingKey()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "azfake-")
	if err != nil {
		return nil, fmt.Errorf("azfake: folder: %w", err)
	}
	s := &Server{opts: o, key: key, dir: dir, closing: make(chan struct{}),
		apps: map[string]*app{}, identityHdr: randomString(24)}
	s.entra = httptest.NewUnstartedServer(http.HandlerFunc(s.serveEntra))
	s.entra.EnableHTTP2 = true
	s.entra.StartTLS()
	s.imds = httptest.NewServer(http.HandlerFunc(s.serveIMDS))
	s.URL, s.IMDSURL = s.entra.URL, s.imds.URL
	s.CAFile = filepath.Join(dir, "ca.pem")
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.entra.Certificate().Raw})
	if err := os.WriteFile(s.CAFile, ca, 0o644); err != nil {
		s.Close()
		return nil, fmt.Errorf("azfake: CA file: %w", err)
	}
	return s, nil
}

// sharedKey signs the tokens of every Server in the process: MSAL caches
// managed-identity tokens process-wide (not per credential), so a token
// that an earlier Server issued may be handed to a later one, which must
// still recognise it as its own.
var sharedKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("azfake: signing key: %w", err)
	}
	return key, nil
})

func signingKey() (*rsa.PrivateKey, error) { return sharedKey() }

// Start starts a server for one test, logs to t.Log unless WithLogger is
// given, and closes the server when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	opts = append([]Option{WithLogger(fakekit.TestLogger(t))}, opts...)
	return fakekit.Start(t, "azfake", func() (*Server, error) { return New(opts...) })
}

// Close releases hung requests, stops the servers (the registries' too)
// and removes the CA file. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.mu.Lock()
		regs := append([]*Registry(nil), s.registries...)
		s.mu.Unlock()
		for _, r := range regs {
			r.hs.Close()
		}
		s.entra.Close()
		s.imds.Close()
		_ = os.RemoveAll(s.dir)
	})
}

// AuthorityHost is the authority host to configure: URL with a slash.
func (s *Server) AuthorityHost() string { return s.URL + "/" }

// Host is Entra ID's host:port, the issuer host of its discovery document.
func (s *Server) Host() string { return strings.TrimPrefix(s.URL, "https://") }

// CertPool returns a pool holding the server's CA.
func (s *Server) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(s.entra.Certificate())
	return pool
}

// TLSConfig returns a client TLS config that trusts the server's CA.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.CertPool(), MinVersion: tls.VersionTLS12}
}

// Env returns the environment a subprocess needs to use this server's
// Entra ID: AZURE_AUTHORITY_HOST and SSL_CERT_FILE. A test config should
// also set disableInstanceDiscovery, or instance discovery goes to
// login.microsoftonline.com.
func (s *Server) Env() []string {
	return []string{"AZURE_AUTHORITY_HOST=" + s.AuthorityHost(), "SSL_CERT_FILE=" + s.CAFile}
}

// AppServiceEnv returns the environment of an Azure App Service with a
// managed identity, whose endpoint is this server's: IDENTITY_ENDPOINT and
// IDENTITY_HEADER, which azidentity reads for managed identity instead of
// IMDS. It is how a subprocess reaches a managed identity here, since
// IMDS's address is a constant.
func (s *Server) AppServiceEnv() []string {
	return []string{"IDENTITY_ENDPOINT=" + s.IMDSURL + appServicePath, "IDENTITY_HEADER=" + s.identityHdr}
}
