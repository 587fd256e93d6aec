package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// CranePull runs `crane pull REF OUT.tar` and then `crane manifest REF`, and
// returns the manifest digest crane got and the two results. crane finds
// credentials through $DOCKER_CONFIG/config.json.
func (e *Env) CranePull(t testing.TB, ref string) (digest string, pull, manifest Result) {
	t.Helper()
	crane := tool(t, "crane")
	out := filepath.Join(t.TempDir(), "image.tar")
	pull = e.Run(t, "", crane, "pull", ref, out)
	manifest = e.Run(t, "", crane, "manifest", ref)
	if manifest.Err == nil {
		digest = DigestOf([]byte(manifest.Stdout))
	}
	return digest, pull, manifest
}

// SkopeoCopy runs `skopeo copy docker://REF dir:OUT` (plain HTTP, a
// permissive policy) and returns the digest of the manifest it wrote.
// skopeo reads credHelpers from $DOCKER_CONFIG/config.json, the last of
// the auth files it tries (facts.md).
func (e *Env) SkopeoCopy(t testing.TB, ref string, extraArgs ...string) (string, Result) {
	t.Helper()
	skopeo := tool(t, "skopeo")
	dir := t.TempDir()
	out := filepath.Join(dir, "image")
	args := append([]string{"--policy", WriteSkopeoPolicy(t, dir), "copy", "--src-tls-verify=false"}, extraArgs...)
	r := e.Run(t, "", skopeo, append(args, "docker://"+ref, "dir:"+out)...)
	if r.Err != nil {
		return "", r
	}
	data, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatalf("skopeo exited 0 but wrote no manifest: %v", err)
	}
	return DigestOf(data), r
}

// DigestOf is the OCI digest of data.
func DigestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

var unauthorizedRE = regexp.MustCompile(`(?i)unauthorized|\b401\b`)

// IsUnauthorized reports whether a failed client run says the registry
// refused it for lack of (valid) credentials.
func IsUnauthorized(r Result) bool {
	return r.Err != nil && unauthorizedRE.MatchString(r.Output())
}
