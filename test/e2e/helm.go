package e2e

import (
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// WriteChart writes a minimal chart (Chart.yaml and one ConfigMap template)
// named name at version into a new folder and returns that folder.
func WriteChart(t testing.TB, name, version string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	writeFile(t, filepath.Join(dir, "Chart.yaml"), fmt.Sprintf(
		"apiVersion: v2\nname: %s\nversion: %s\ndescription: ocicred end-to-end test chart\ntype: application\n", name, version))
	writeFile(t, filepath.Join(dir, "templates", "configmap.yaml"),
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  hello: world\n")
	return dir
}

// HelmPushChart packages chartDir and pushes it to oci://HOST/REPO over plain
// HTTP with the registry's own credentials, and returns the manifest digest
// helm reports and the digest of the chart archive it pushed (the chart
// layer). The credentials sit in an `auths` entry of a throwaway
// registry config (--registry-config), not on the command line, which the
// log shows: no ocicred, and nothing left in the sandbox's own files.
func (e *Env) HelmPushChart(t testing.TB, chartDir, ociRepo, user, password string) (manifest, chart string) {
	t.Helper()
	helm := tool(t, "helm")
	out := t.TempDir()
	pkg := e.Run(t, "", helm, "package", chartDir, "--destination", out)
	if pkg.Err != nil {
		t.Fatalf("helm package: %v", pkg.Err)
	}
	tgz, err := filepath.Glob(filepath.Join(out, "*.tgz"))
	if err != nil || len(tgz) != 1 {
		t.Fatalf("helm package wrote %v (%v), want one .tgz", tgz, err)
	}
	host, _, _ := strings.Cut(strings.TrimPrefix(ociRepo, "oci://"), "/")
	creds := filepath.Join(out, "push-registry.json")
	WriteAuthFile(t, creds, DockerConfig{Auths: map[string]DockerAuth{
		host: {Auth: base64.StdEncoding.EncodeToString([]byte(user + ":" + password))},
	}})
	r := e.Run(t, "", helm, "push", tgz[0], ociRepo, "--plain-http", "--registry-config", creds)
	d := reportedDigest(r)
	if d == "" {
		t.Fatalf("helm push %s: exit %d, no digest", ociRepo, r.ExitCode)
	}
	return d, DigestOf([]byte(ReadFile(t, tgz[0])))
}

// HelmPull runs `helm pull OCIREF --version V --plain-http -d DIR`
// (credentials from helm's registry config, then the docker config, asked
// for after a 401) and returns the manifest digest it reports.
func (e *Env) HelmPull(t testing.TB, ociRef, version, dir string) (string, Result) {
	t.Helper()
	r := e.Run(t, "", tool(t, "helm"), "pull", ociRef, "--version", version, "--plain-http", "--destination", dir)
	return reportedDigest(r), r
}
