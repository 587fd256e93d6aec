package gcpfake

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"cloud.google.com/go/compute/metadata"
	"golang.org/x/oauth2/google"
)

// TestMetadataWithLibrary: Google's metadata client, pointed at the fake
// by GCE_METADATA_HOST, reads the project, the account and a token.
func TestMetadataWithLibrary(t *testing.T) {
	srv := Start(t, WithMetadataAccount(testSA))
	srv.Setenv(t)
	ctx := testCtx(t)
	mc := metadata.NewClient(&http.Client{})
	if id, err := mc.ProjectIDWithContext(ctx); err != nil || id != DefaultProjectID {
		t.Errorf("project id %q, %v", id, err)
	}
	if email, err := mc.EmailWithContext(ctx, ""); err != nil || email != testSA {
		t.Errorf("email %q, %v", email, err)
	}
	if scopes, err := mc.ScopesWithContext(ctx, ""); err != nil || len(scopes) != 1 || scopes[0] != CloudPlatformScope {
		t.Errorf("scopes %q, %v", scopes, err)
	}
	tok, err := google.ComputeTokenSource("", CloudPlatformScope, "https://www.googleapis.com/auth/devstorage.read_only").Token()
	if err != nil {
		t.Fatalf("ComputeTokenSource: %v", err)
	}
	if who, ok := srv.TokenOwner(tok.AccessToken); !ok || who != testSA {
		t.Errorf("owner %q, %v", who, ok)
	}
	if got := srv.TokenScopes(tok.AccessToken); len(got) != 2 {
		t.Errorf("token scopes %q, want the two asked for", got)
	}
	for _, c := range srv.CallsOf(EndpointMetadata) {
		if c.MetadataFlavor != "Google" || c.Status != 200 {
			t.Errorf("call %+v", c)
		}
	}
}

// TestMetadataNeedsFlavor: without Metadata-Flavor: Google the answer is
// 403, with it the answer carries the header back.
func TestMetadataNeedsFlavor(t *testing.T) {
	srv := Start(t, WithMetadataAccount(testSA))
	u := srv.URL + "/computeMetadata/v1/instance/service-accounts/default/email"
	for _, flavor := range []string{"", "google", "Google"} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if flavor != "" {
			req.Header.Set("Metadata-Flavor", flavor)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := http.StatusForbidden
		if flavor == "Google" {
			want = http.StatusOK
		}
		if resp.StatusCode != want || resp.Header.Get("Metadata-Flavor") != "Google" {
			t.Errorf("flavor %q: %d, header %q; want %d", flavor, resp.StatusCode, resp.Header.Get("Metadata-Flavor"), want)
		}
		if want == http.StatusOK && string(body) != testSA {
			t.Errorf("email %q", body)
		}
	}
}

// TestMetadataNoAccount: an instance without a service account answers
// 404, which the library reports as NotDefinedError.
func TestMetadataNoAccount(t *testing.T) {
	srv := Start(t)
	srv.Setenv(t)
	_, err := metadata.NewClient(&http.Client{}).EmailWithContext(testCtx(t), "")
	var nd metadata.NotDefinedError
	if !errors.As(err, &nd) {
		t.Fatalf("got %v, want NotDefinedError", err)
	}
	srv.SetMetadataAccount(testSA)
	if email, err := metadata.NewClient(&http.Client{}).EmailWithContext(testCtx(t), ""); err != nil || email != testSA {
		t.Fatalf("after SetMetadataAccount: %q, %v", email, err)
	}
	if _, err := metadata.NewClient(&http.Client{}).EmailWithContext(testCtx(t), "someone-else@x.iam.gserviceaccount.com"); !errors.As(err, &nd) {
		t.Errorf("another account: %v, want NotDefinedError", err)
	}
	if !strings.HasPrefix(srv.MetadataHost(), "127.0.0.1:") {
		t.Errorf("MetadataHost %q", srv.MetadataHost())
	}
}
