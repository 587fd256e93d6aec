package gartoken

import (
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/crane"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/ocicred/ocicred/test/gcpfake"
)

// TestPullWithFetchedToken: what Fetch answers, sent as Username and
// password, pulls through an Artifact Registry-like front with crane;
// a token of an identity that is no reader is refused with 403.
func TestPullWithFetchedToken(t *testing.T) {
	e := start(t, gcpfake.WithMetadataAccount(testVM))
	open := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(open.Close)
	u, _ := url.Parse(open.URL)
	front := httptest.NewServer(gcpfake.NewRegistryFront(e.srv, u))
	t.Cleanup(front.Close)
	img, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := crane.Push(img, u.Host+"/proj/repo/app:v1", crane.Insecure); err != nil {
		t.Fatal(err)
	}
	ref := strings.TrimPrefix(front.URL, "http://") + "/proj/repo/app:v1"
	reg, _ := e.keyRegistry(t, testSA)
	e.srv.GrantReader(testSA)
	pull := func() error {
		tok, err := e.f.Fetch(testCtx(t), reg)
		if err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		_, err = crane.Pull(ref, crane.Insecure, crane.WithAuth(&authn.Basic{Username: Username, Password: tok.Password.Reveal()}))
		return err
	}
	if err := pull(); err != nil {
		t.Fatalf("pull: %v", err)
	}
	e.srv.RevokeReader(testSA)
	var te *transport.Error
	if err := pull(); !errors.As(err, &te) || te.StatusCode != http.StatusForbidden {
		t.Fatalf("pull without the reader role: %v, want 403", err)
	}
	// The VM's identity, through the metadata server, once granted.
	e.srv.GrantReader(testVM)
	reg = registry(t, "")
	if err := pull(); err != nil {
		t.Fatalf("pull as the VM: %v", err)
	}
}
