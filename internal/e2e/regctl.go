package e2e

import (
	"strings"
	"testing"
)

// RegctlDigest runs `regctl image digest REF` and returns the digest it
// prints. regctl reads credHelpers from $DOCKER_CONFIG/config.json and asks
// after a 401; RegctlPlainHTTP must have marked the host as plain HTTP.
func (e *Env) RegctlDigest(t testing.TB, ref string) (string, Result) {
	t.Helper()
	r := e.Run(t, "", tool(t, "regctl"), "image", "digest", ref)
	if r.Err != nil {
		return "", r
	}
	return strings.TrimSpace(r.Stdout), r
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
