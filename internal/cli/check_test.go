package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/ocicred/ocicred/test/awsfake"
)

// basicGate lets through requests with user:pass as Basic auth.
func basicGate(user, pass string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bearerRegistry challenges with Bearer and runs a token endpoint that
// swaps user:pass for a token, as Harbor and Docker Hub do.
func bearerRegistry(t *testing.T, user, pass string) *httptest.Server {
	const token = "bearer-token-42"
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
			http.Error(w, "denied", http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"token": token})
	})
	reg := registry.New()
	mux.Handle("/v2/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="test"`, srv.URL))
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func hostOf(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func TestCheck(t *testing.T) {
	basic := httptest.NewServer(basicGate("alice", "pw-alice", registry.New()))
	defer basic.Close()
	bearer := bearerRegistry(t, "bob", "pw-bob")
	fake := awsfake.Start(t, awsfake.WithKey("AKIAIOSFODNN7EXAMPLE", "secret-key-for-check"))
	fake.Setenv(t)
	t.Setenv("OCICRED_CACHE_DIR", t.TempDir())
	t.Setenv("OCICRED_TEST_SK", "secret-key-for-check")
	upstream := httptest.NewServer(registry.New())
	defer upstream.Close()
	// ecr-ok's token: the long-term key's account, in the config's region.
	reg := awsfake.Registry{Account: awsfake.DefaultAccount, Region: "us-west-2"}
	front := httptest.NewServer(awsfake.NewRegistryFront(fake, reg, mustURL(t, upstream.URL)))
	defer front.Close()

	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, fmt.Sprintf(`registries:
  - {name: basic-ok, type: basic, endpoint: "http://%s", username: alice, password: pw-alice}
  - {name: basic-bad, type: basic, endpoint: "http://%s", username: alice, password: wrong}
  - {name: bearer-ok, type: basic, endpoint: "http://%s", username: bob, password: pw-bob}
  - {name: bearer-bad, type: basic, endpoint: "http://%s", username: bob, password: nope}
  - name: ecr-ok
    type: ecr
    endpoint: "http://%s"
    region: us-west-2
    credentials: {type: secret, accessKeyId: AKIAIOSFODNN7EXAMPLE, secretAccessKeyEnv: OCICRED_TEST_SK}
`, hostOf(t, basic.URL), strings.Replace(hostOf(t, basic.URL), "127.0.0.1", "localhost", 1),
		hostOf(t, bearer.URL), strings.Replace(hostOf(t, bearer.URL), "127.0.0.1", "localhost", 1), hostOf(t, front.URL)), 0o600)
	sock := filepath.Join(dir, "none.sock")

	stdout, stderr, code := ocicred(t, "check", "--config", cfg, "--socket", sock)
	t.Logf("check:\n%s%s", stdout, stderr)
	for _, want := range []string{
		"basic-ok: ok: http://127.0.0.1:", "basic-bad: FAILED: http://localhost:",
		"bearer-ok: ok: http://127.0.0.1:", "bearer-bad: FAILED: http://localhost:",
		"ecr-ok: ok: http://127.0.0.1:",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("check output lacks %q", want)
		}
	}
	if !strings.Contains(stdout, "the registry rejected the credentials (401 Unauthorized)") || code != 1 ||
		!strings.Contains(stderr, "2 of 5 registries failed") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	for _, secret := range []string{"pw-alice", "pw-bob", "wrong", "nope", "secret-key-for-check"} {
		if strings.Contains(stdout+stderr, secret) {
			t.Errorf("check printed the secret %q", secret)
		}
	}

	// Only the named ones, all good: exit 0.
	if _, _, code := ocicred(t, "check", "--config", cfg, "--socket", sock, "basic-ok", "bearer-ok", "ecr-ok"); code != 0 {
		t.Errorf("check of good registries: exit %d", code)
	}
	// AWS refuses: the line says so.
	fake.Inject(awsfake.AccessDenied, awsfake.ECRGetAuthorizationToken, awsfake.Forever)
	if err := os.RemoveAll(os.Getenv("OCICRED_CACHE_DIR")); err != nil {
		t.Fatal(err)
	}
	stdout, _, code = ocicred(t, "check", "--config", cfg, "--socket", sock, "ecr-ok")
	if code != 1 || !strings.Contains(stdout, "ecr-ok: FAILED: credentials: registry ecr-ok: ECR GetAuthorizationToken: AccessDeniedException") {
		t.Errorf("check with ECR denied: %q, exit %d", stdout, code)
	}
	if _, stderr, code := ocicred(t, "check", "--config", cfg, "nosuch"); code != 2 || !strings.Contains(stderr, `no registry named "nosuch"`) {
		t.Errorf("check of an unknown name: %q, exit %d", stderr, code)
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
