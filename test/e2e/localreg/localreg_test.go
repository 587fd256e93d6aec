package localreg

import (
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
	"github.com/ocicred/ocicred/test/testenv"
)

const testUser, testPassword = "alice", "localreg-test-password"

func TestInProcess(t *testing.T) {
	reg, err := StartInProcess(testUser, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := reg.Close(); err != nil {
			t.Error(err)
		}
	})
	exercise(t, reg)
}

func TestDistribution(t *testing.T) {
	testenv.SkipShort(t, "runs the distribution registry")
	testenv.Tool(t, "docker-registry")
	testenv.Tool(t, "htpasswd")
	reg, err := StartDistribution(t.Context(), Distribution{Dir: t.TempDir(), User: testUser, Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := reg.Close(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("registry output:\n%s", reg.Output())
		}
	})
	exercise(t, reg)
}

// TestDistributionNoAuth: the open registry takes anonymous pushes and pulls.
func TestDistributionNoAuth(t *testing.T) {
	testenv.SkipShort(t, "runs the distribution registry")
	testenv.Tool(t, "docker-registry")
	reg, err := StartDistribution(t.Context(), Distribution{Dir: t.TempDir(), NoAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := reg.Close(); err != nil {
			t.Error(err)
		}
	})
	digest, err := reg.PushTestImage(t.Context(), "demo/open", "v1", "open\n", authn.Anonymous)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := reg.Tag("demo/open", "v1")
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(ref, remote.WithContext(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := img.Digest(); err != nil || got.String() != digest {
		t.Errorf("pulled %v (%v), pushed %s", got, err, digest)
	}
}

// exercise pushes with the right credentials, pulls it back (every blob,
// digests checked), and checks that anonymous and wrong credentials get 401.
func exercise(t *testing.T, reg *Registry) {
	ctx := t.Context()
	good := &authn.Basic{Username: testUser, Password: testPassword}
	digest, err := reg.PushTestImage(ctx, "demo/hello", "v1", "hello\n", good)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := reg.Tag("demo/hello", "v1")
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(ref, remote.WithAuth(good), remote.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(img); err != nil {
		t.Errorf("pulled image: %v", err)
	}
	if got, err := img.Digest(); err != nil || got.String() != digest {
		t.Errorf("pulled %v (%v), pushed %s", got, err, digest)
	}
	for name, auth := range map[string]authn.Authenticator{
		"anonymous":      authn.Anonymous,
		"wrong password": &authn.Basic{Username: testUser, Password: "nope"},
	} {
		_, err := remote.Get(ref, remote.WithAuth(auth), remote.WithContext(ctx))
		var te *transport.Error
		if !errors.As(err, &te) || te.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: remote.Get error = %v, want a 401 transport.Error", name, err)
		}
	}
}

// TestTestImageIsReproducible: tests and the demo compare digests.
func TestTestImageIsReproducible(t *testing.T) {
	digest := func(text string) string {
		img, err := TestImage(text)
		if err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d.String()
	}
	if a, b := digest("a\n"), digest("a\n"); a != b {
		t.Errorf("same text, digests %s and %s", a, b)
	}
	if a, b := digest("a\n"), digest("b\n"); a == b {
		t.Errorf("different texts, same digest %s", a)
	}
	img, err := TestImage("a\n")
	if err != nil {
		t.Fatal(err)
	}
	if mt, err := img.MediaType(); err != nil || mt != types.OCIManifestSchema1 {
		t.Errorf("media type %s (%v), want %s", mt, err, types.OCIManifestSchema1)
	}
	if cf, err := img.ConfigFile(); err != nil || cf.Platform().String() != "linux/amd64" {
		t.Errorf("config %+v (%v), want linux/amd64", cf, err)
	}
}
