package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// CranePull runs `crane pull --format oci REF DIR`: manifest and blobs
// into an OCI layout. When it succeeds, every blob it wrote is checked
// against want (checkOCILayout), and digest is the manifest digest its
// layout names. crane finds credentials through $DOCKER_CONFIG/config.json.
func (e *Env) CranePull(t testing.TB, ref string, want Image) (digest string, pull Result) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "layout")
	pull = e.Run(t, "", tool(t, "crane"), "pull", "--format", "oci", ref, out)
	if pull.Err == nil {
		digest = checkOCILayout(t, "crane", out, want)
	}
	return digest, pull
}

// SkopeoCopy runs `skopeo copy docker://REF dir:OUT` (plain HTTP, a
// permissive policy). When it succeeds, the manifest and every blob it
// wrote (named by their digests' hex) are checked against want, and the
// digest of the manifest it wrote is returned. skopeo reads credHelpers
// from $DOCKER_CONFIG/config.json, the last of the auth files it tries
// (facts.md).
func (e *Env) SkopeoCopy(t testing.TB, ref string, want Image, extraArgs ...string) (string, Result) {
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
	checkWrittenBlobs(t, "skopeo", want, data, func(digest string) ([]byte, error) {
		return os.ReadFile(filepath.Join(out, strings.TrimPrefix(digest, "sha256:")))
	})
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
