package e2e

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ocicred/ocicred/test/e2e/localreg"
	"github.com/ocicred/ocicred/test/gcpfake"
)

// GAR is a stand-in for Google Artifact Registry on 127.0.0.1. gcpfake
// issues the access tokens (JWT-bearer grant, metadata server, STS, IAM
// Credentials); its registry front, served here by an httptest server,
// answers Artifact Registry's Bearer challenge, takes Basic
// oauth2accesstoken:<access token> at /v2/token for tokens the fake issued
// to a principal granted the reader role (Fake.GrantReader), and forwards
// to an upstream distribution registry with no auth of its own.
type GAR struct {
	Fake *gcpfake.Server
	// Upstream is the open registry behind the front: the test pushes there.
	Upstream *localreg.Registry
	// Host is the front's host:port, what clients pull from.
	Host string
}

// StartGAR starts the fake (opts are gcpfake's), the upstream registry and
// the front; all stop when the test ends. It does not set
// GCE_METADATA_HOST: a test that wants the metadata server passes
// Fake.MetadataHost() to the process it starts, or calls Fake.Setenv.
func StartGAR(t testing.TB, opts ...gcpfake.Option) *GAR {
	t.Helper()
	fake := gcpfake.Start(t, opts...)
	up, upURL := startUpstream(t)
	front := httptest.NewServer(gcpfake.NewRegistryFront(fake, upURL))
	t.Cleanup(front.Close)
	g := &GAR{Fake: fake, Upstream: up, Host: strings.TrimPrefix(front.URL, "http://")}
	t.Logf("GAR stand-in: Google APIs %s, registry front %s, upstream (no auth) %s", fake.URL, g.Host, up.Host)
	return g
}

// PushImage pushes a small test image to repo:tag on the upstream (no
// credentials, no ocicred) and returns what it pushed. The same image is
// then served by the front at Host/repo:tag.
func (g *GAR) PushImage(t testing.TB, repo, tag string) Image {
	t.Helper()
	return pushUpstream(t, g.Upstream, "GAR", g.Host, repo, tag)
}
