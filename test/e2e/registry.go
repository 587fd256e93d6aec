package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/ocicred/ocicred/test/e2e/localreg"
)

// Registry is a distribution registry on 127.0.0.1 that accepts only User and
// Password, with Basic authentication. Clients reach it through Host, a
// front that records every request and the registry's answer, so that a
// control can assert that the registry itself refused it with 401, and
// with which credentials.
type Registry struct {
	*localreg.Registry // Host and URL are the front's
	User, Password     string

	mu       sync.Mutex
	requests []RegistryRequest
}

// RegistryRequest is one request the registry answered, as its front saw it.
type RegistryRequest struct {
	Method, Path string
	Status       int
	// User is the Basic user name the request carried; "" when it
	// carried no credentials (Credentials false) or other ones.
	User        string
	Credentials bool
}

// StartRegistry runs the distribution registry with htpasswd auth for user
// alice and a fresh random password, behind a recording front; it stops
// when the test ends and its log is shown if the test failed.
func StartRegistry(t testing.TB) *Registry {
	t.Helper()
	return startRegistry(t, false)
}

// StartRegistryIPv6 is StartRegistry listening on [::1]: its Host is an
// IPv6 literal, "[::1]:PORT".
func StartRegistryIPv6(t testing.TB) *Registry {
	t.Helper()
	return startRegistry(t, true)
}

func startRegistry(t testing.TB, ipv6 bool) *Registry {
	t.Helper()
	d := localreg.Distribution{
		IPv6:        ipv6,
		Dir:         t.TempDir(),
		User:        "alice",
		Password:    Secret("pw"),
		RegistryBin: tool(t, "docker-registry"),
		HtpasswdBin: tool(t, "htpasswd"),
	}
	reg, err := localreg.StartDistribution(t.Context(), d)
	if err != nil {
		t.Fatalf("start the registry: %v", err)
	}
	t.Cleanup(func() {
		if err := reg.Close(); err != nil {
			t.Errorf("stop the registry: %v", err)
		}
		if t.Failed() {
			t.Logf("registry %s log:\n%s", reg.Host, reg.Output())
		}
	})
	r := &Registry{User: d.User, Password: d.Password}
	upstream, err := url.Parse(reg.URL)
	if err != nil {
		t.Fatal(err)
	}
	// The front keeps the Host header, so the registry's upload locations
	// point back at it.
	proxy := httputil.NewSingleHostReverseProxy(upstream)
	front := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		proxy.ServeHTTP(rec, req)
		user, _, ok := req.BasicAuth()
		r.mu.Lock()
		r.requests = append(r.requests, RegistryRequest{Method: req.Method, Path: req.URL.Path, Status: rec.status,
			User: user, Credentials: ok || req.Header.Get("Authorization") != ""})
		r.mu.Unlock()
	}))
	if ipv6 { // the front listens where the registry does
		ln, err := net.Listen("tcp", "[::1]:0")
		if err != nil {
			t.Fatal(err)
		}
		front.Listener.Close()
		front.Listener = ln
	}
	front.Start()
	t.Cleanup(front.Close)
	fronted := *reg
	fronted.Host, fronted.URL = strings.TrimPrefix(front.URL, "http://"), front.URL
	r.Registry = &fronted
	t.Logf("registry (%s) on %s behind the recording front %s, user %s", reg.Kind, reg.Host, r.Host, d.User)
	return r
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Mark is how many requests the registry has answered so far: what a
// client does after it is in RequestsSince(mark).
func (r *Registry) Mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.requests)
}

// RequestsSince are the requests answered after mark.
func (r *Registry) RequestsSince(mark int) []RegistryRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]RegistryRequest(nil), r.requests[mark:]...)
}

// assertRefusedByRegistry checks that since mark the registry answered a
// request with 401 and gave out no manifest or blob: the pull failed
// because the registry refused its credentials, not for any other reason.
// user is the Basic user the refused request must have carried ("" for a
// request without credentials).
func (r *Registry) assertRefusedByRegistry(t testing.TB, mark int, client, user string) {
	t.Helper()
	refused := false
	for _, req := range r.RequestsSince(mark) {
		switch {
		case req.Status == http.StatusUnauthorized && req.User == user && (user != "" || !req.Credentials):
			refused = true
		case req.Status < 300 && (strings.Contains(req.Path, "/manifests/") || strings.Contains(req.Path, "/blobs/")):
			t.Errorf("%s: the registry answered %s %s with %d", client, req.Method, req.Path, req.Status)
		}
	}
	if !refused {
		who := "a request without credentials"
		if user != "" {
			who = "a request with user " + user + "'s (wrong) password"
		}
		t.Errorf("%s: the registry answered no 401 to %s; it saw %v", client, who, r.RequestsSince(mark))
	}
}

// assertServedNothing checks that since mark the registry gave out no
// manifest or blob and saw no credentials: a client that failed before it
// had any.
func (r *Registry) assertServedNothing(t testing.TB, mark int, client string) {
	t.Helper()
	for _, req := range r.RequestsSince(mark) {
		if req.Credentials || (req.Status < 300 && (strings.Contains(req.Path, "/manifests/") || strings.Contains(req.Path, "/blobs/"))) {
			t.Errorf("%s: the registry answered %s %s (credentials: %v) with %d", client, req.Method, req.Path, req.Credentials, req.Status)
		}
	}
}

// Secret returns a fresh random string, distinctive enough to grep logs for.
func Secret(prefix string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "e2e-" + prefix + "-" + hex.EncodeToString(b)
}

// PushImage pushes a small test image to repo:tag with the registry's own
// credentials (no ocicred involved) and returns what it pushed.
func (r *Registry) PushImage(t testing.TB, repo, tag string) Image {
	t.Helper()
	text := "hello from " + repo + ":" + tag + "\n"
	digest, err := r.PushTestImage(t.Context(), repo, tag, text, &authn.Basic{Username: r.User, Password: r.Password})
	if err != nil {
		t.Fatalf("push the test image: %v", err)
	}
	img := imageOf(t, text)
	if img.Manifest != digest {
		t.Fatalf("pushed %s, but the test image's digest is %s", digest, img.Manifest)
	}
	t.Logf("pushed %s/%s:%s %s", r.Host, repo, tag, digest)
	return img
}
