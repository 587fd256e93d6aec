package e2e

import (
	"strings"
	"testing"

	"github.com/ocicred/ocicred/test/azfake"
	"github.com/ocicred/ocicred/test/e2e/localreg"
)

// ACR is a stand-in for an Azure Container Registry on 127.0.0.1: azfake's
// Entra ID (TLS, its own CA) and its ACR front, which exchanges Entra
// tokens it issued for refresh tokens bound to the front, and lets
// through to Upstream only pulls with an access token it issued.
type ACR struct {
	Fake     *azfake.Server
	Registry *azfake.Registry
	// Upstream is the open registry behind the front; tests push there.
	Upstream *localreg.Registry
	// Host is the front's host:port, what clients pull from.
	Host string
}

// StartACR starts the fake (opts are azfake's), the upstream registry and
// the front; all stop when the test ends.
func StartACR(t testing.TB, opts ...azfake.Option) *ACR {
	t.Helper()
	fake := azfake.Start(t, opts...)
	up, upURL := startUpstream(t)
	reg := fake.NewRegistry(upURL)
	a := &ACR{Fake: fake, Registry: reg, Upstream: up, Host: strings.TrimPrefix(reg.URL, "http://")}
	t.Logf("ACR stand-in: Entra ID %s, registry front %s, upstream (no auth) %s", fake.URL, a.Host, up.Host)
	return a
}

// PushImage pushes a small test image to repo:tag on the upstream; the
// front serves it at Host/repo:tag.
func (a *ACR) PushImage(t testing.TB, repo, tag string) Image {
	t.Helper()
	return pushUpstream(t, a.Upstream, "ACR", a.Host, repo, tag)
}
