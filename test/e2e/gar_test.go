package e2e

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/gartoken"
)

// TestGARFront: a token gartoken fetches with a service account key pulls
// the image through the GAR stand-in from the distribution registry, with
// crane; the same identity without the reader role gets 403.
func TestGARFront(t *testing.T) {
	Need(t, ecrTools...)
	g := StartGAR(t)
	img := g.PushImage(t, "proj/repo/hello", "v1")
	const sa = "puller@ocicred-e2e.iam.gserviceaccount.com"
	key := g.Fake.NewKey(sa)
	keyFile := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(keyFile, key.JSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]byte("registries:\n  - name: gar\n    type: gar\n    endpoint: europe-docker.pkg.dev\n"+
		"    credentials: {type: serviceAccountKey, keyFile: "+keyFile+"}\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.ResolveSecrets(config.OS); err != nil {
		t.Fatal(err)
	}
	tok, err := gartoken.NewFetcher().Fetch(t.Context(), cfg.Registries[0])
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	auth := crane.WithAuth(&authn.Basic{Username: gartoken.Username, Password: tok.Password.Reveal()})
	ref := g.Host + "/proj/repo/hello:v1"
	if _, err := crane.Manifest(ref, crane.Insecure, auth); err == nil {
		t.Fatal("pulled without the reader role")
	} else if te := (*transport.Error)(nil); !errors.As(err, &te) || te.StatusCode != http.StatusForbidden {
		t.Fatalf("pull without the reader role: %v, want 403", err)
	}
	g.Fake.GrantReader(sa)
	digest, err := crane.Digest(ref, crane.Insecure, auth)
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	if digest != img.Manifest {
		t.Errorf("pulled %s, pushed %s", digest, img.Manifest)
	}
}
