package e2e

import (
	"path/filepath"
	"testing"
)

// RegctlPull runs `regctl image copy REF ocidir://DIR:pulled`, which pulls
// the manifest and every blob into an OCI layout, and returns the manifest
// digest the layout names after checking every blob against want
// (checkOCILayout). regctl reads credHelpers from
// $DOCKER_CONFIG/config.json and asks after a 401; RegctlPlainHTTP must
// have marked the host as plain HTTP.
func (e *Env) RegctlPull(t testing.TB, ref string, want Image) (string, Result) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	r := e.Run(t, "", tool(t, "regctl"), "image", "copy", ref, "ocidir://"+dir+":pulled")
	if r.Err != nil {
		return "", r
	}
	return checkOCILayout(t, "regctl", dir, want), r
}

// RegctlPlainHTTP runs `regctl registry set HOST --tls disabled --skip-check`
// (in $HOME/.regctl/config.json): no credentials, and no ping, which would
// fail with 401 before the client is wired.
func (e *Env) RegctlPlainHTTP(t testing.TB, host string) {
	t.Helper()
	if r := e.Run(t, "", tool(t, "regctl"), "registry", "set", host, "--tls", "disabled", "--skip-check"); r.Err != nil {
		t.Fatalf("regctl registry set %s: %v", host, r.Err)
	}
}
