package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/ocicred/ocicred/internal/e2e/localreg"
)

// Registry is a distribution registry on 127.0.0.1 that accepts only User and
// Password, with Basic authentication.
type Registry struct {
	*localreg.Registry
	User, Password string
}

// StartRegistry runs the distribution registry with htpasswd auth for user
// alice and a fresh random password; it stops when the test ends and its log
// is shown if the test failed.
func StartRegistry(t testing.TB) *Registry {
	t.Helper()
	d := localreg.Distribution{
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
	t.Logf("registry (%s) on %s, user %s", reg.Kind, reg.Host, d.User)
	return &Registry{Registry: reg, User: d.User, Password: d.Password}
}

// Secret returns a fresh random string, distinctive enough to grep logs for.
func Secret(prefix string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "e2e-" + prefix + "-" + hex.EncodeToString(b)
}

// PushImage pushes a small test image to repo:tag with the registry's own
// credentials (no ocicred involved) and returns its manifest digest.
func (r *Registry) PushImage(t testing.TB, repo, tag string) string {
	t.Helper()
	digest, err := r.PushTestImage(t.Context(), repo, tag, "hello from "+repo+":"+tag+"\n",
		&authn.Basic{Username: r.User, Password: r.Password})
	if err != nil {
		t.Fatalf("push the test image: %v", err)
	}
	t.Logf("pushed %s/%s:%s %s", r.Host, repo, tag, digest)
	return digest
}
