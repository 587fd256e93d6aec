package e2e

import (
	"path/filepath"
	"testing"
)

// OrasPush writes content to the file name in the sandbox folder and pushes it
// as a one-layer artifact to ref over plain HTTP with the registry's own
// credentials (--password-stdin; no ocicred, nothing stored). It returns the
// manifest digest oras reports.
func (e *Env) OrasPush(t testing.TB, ref, user, password, name, content string) string {
	t.Helper()
	writeFile(t, filepath.Join(e.Root, name), content)
	r := e.Run(t, password, tool(t, "oras"), "push", "--plain-http", "--no-tty",
		"--username", user, "--password-stdin", ref, name+":text/plain")
	d := reportedDigest(r)
	if d == "" {
		t.Fatalf("oras push %s: exit %d, no digest", ref, r.ExitCode)
	}
	return d
}

// OrasPull runs `oras pull --plain-http -o DIR REF` (credentials from
// $DOCKER_CONFIG/config.json, asked for after a 401) and returns the
// manifest digest it reports.
func (e *Env) OrasPull(t testing.TB, ref, dir string) (string, Result) {
	t.Helper()
	r := e.Run(t, "", tool(t, "oras"), "pull", "--plain-http", "--no-tty", "-o", dir, ref)
	return reportedDigest(r), r
}
