package awsfake

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// TestCraneThroughRegistryFront pushes and pulls with crane, a real registry
// client, using a token from the real ECR client.
func TestCraneThroughRegistryFront(t *testing.T) {
	srv, clock, c := start(t)
	front, _ := startFront(t, srv, testRegistry)
	ref := strings.TrimPrefix(front, "http://") + "/team/app:v1"
	_, pass := decodeToken(t, strings.TrimPrefix(ecrBasic(t, c), "Basic "))
	good := crane.WithAuth(&authn.Basic{Username: "AWS", Password: pass})
	ctx := crane.WithContext(testCtx(t))

	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := crane.Push(img, ref, good, ctx, crane.Insecure); err != nil {
		t.Fatalf("push with a valid token: %v", err)
	}
	want, _ := img.Digest()
	if got, err := crane.Digest(ref, good, ctx, crane.Insecure); err != nil || got != want.String() {
		t.Fatalf("digest through the front = %q, %v; want %s", got, err, want)
	}
	bad := crane.WithAuth(&authn.Basic{Username: "AWS", Password: "not-issued"})
	_, err = crane.Digest(ref, bad, ctx, crane.Insecure)
	checkDenied(t, err, "authentication required")
	clock.Advance(12 * time.Hour)
	_, err = crane.Digest(ref, good, ctx, crane.Insecure)
	checkDenied(t, err, "Your authorization token has expired. Reauthenticate and try again.")
}

// checkDenied checks that crane got the front's 401 with message msg.
func checkDenied(t *testing.T, err error, msg string) {
	t.Helper()
	var terr *transport.Error
	if !errors.As(err, &terr) {
		t.Fatalf("error %v, want a registry error", err)
	}
	if terr.StatusCode != http.StatusUnauthorized || len(terr.Errors) != 1 || terr.Errors[0].Message != msg {
		t.Errorf("registry error %d %+v, want 401 %q", terr.StatusCode, terr.Errors, msg)
	}
}
