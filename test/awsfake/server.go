package awsfake

import (
	"fmt"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ocicred/ocicred/test/fakekit"
)

// Server is a fake of ECR, ECR Public and STS listening on URL. It is safe
// for concurrent use; its switches may be flipped while requests run.
type Server struct {
	// URL is the base URL of all three services, e.g. http://127.0.0.1:1234.
	URL string

	opts      options
	hs        *httptest.Server
	dir       string        // holds the empty AWS config and credentials files
	closing   chan struct{} // closed by Close; releases hung requests
	closeOnce sync.Once

	calls  fakekit.Log[Call]
	faults fakekit.Faults[Fault]

	mu    sync.Mutex
	state state
}

// state is everything guarded by Server.mu.
type state struct {
	tokens       map[string]token   // by registry password
	keys         map[string]session // temporary keys by access key id
	longTermKeys map[string]string  // secret keys by access key id
	deniedRoles  map[string]bool
	deniedKeys   map[string]bool
}

// New starts a server on a loopback port. Close it when done.
func New(opts ...Option) (*Server, error) {
	o := defaults()
	for _, fn := range opts {
		fn(&o)
	}
	dir, err := emptyAWSConfig()
	if err != nil {
		return nil, err
	}
	s := &Server{opts: o, dir: dir, closing: make(chan struct{})}
	s.state = state{
		tokens:       map[string]token{},
		keys:         map[string]session{},
		longTermKeys: maps.Clone(o.keys),
		deniedRoles:  map[string]bool{},
		deniedKeys:   map[string]bool{},
	}
	s.hs = httptest.NewServer(s)
	s.URL = s.hs.URL
	return s, nil
}

// Start starts a server for one test, logs to t.Log unless WithLogger is
// given, and closes the server when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	opts = append([]Option{WithLogger(fakekit.TestLogger(t))}, opts...)
	return fakekit.Start(t, "awsfake", func() (*Server, error) { return New(opts...) })
}

// Close releases hung requests, stops the server and removes its files.
// It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.hs.Close()
		_ = os.RemoveAll(s.dir)
	})
}

// Env returns the environment a subprocess needs to use this server and
// nothing else: endpoints, IMDS off, and empty shared config files so that
// ~/.aws is never read. Credentials and region are the caller's to add.
func (s *Server) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL_ECR=" + s.URL,
		"AWS_ENDPOINT_URL_ECR_PUBLIC=" + s.URL,
		"AWS_ENDPOINT_URL_STS=" + s.URL,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(s.dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(s.dir, "credentials"),
	}
}

// Setenv sets Env's variables for the rest of test t (not for parallel tests).
func (s *Server) Setenv(t testing.TB) {
	t.Helper()
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// emptyAWSConfig makes a temp folder with empty config and credentials files.
func emptyAWSConfig() (string, error) {
	dir, err := os.MkdirTemp("", "awsfake-")
	if err != nil {
		return "", fmt.Errorf("awsfake: config folder: %w", err)
	}
	for _, name := range []string{"config", "credentials"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			_ = os.RemoveAll(dir)
			return "", fmt.Errorf("awsfake: %s file: %w", name, err)
		}
	}
	return dir, nil
}
