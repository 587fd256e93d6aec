package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/kubeletplugin"
	"github.com/ocicred/ocicred/internal/localapi"
)

// config validate prints every error and quotes no value the file holds:
// not user info or a token in an endpoint, not a secret pasted where an
// environment variable's name belongs.
func TestValidateEchoesNoSecret(t *testing.T) {
	const s = "wJalrXUtnFEMIK7MDENGbPxRfiCY"
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	writeFile(t, cfg, `registries:
  - {name: a, type: basic, endpoint: "https://robot:`+s+`@a.example", username: u, passwordEnv: PW}
  - {name: b, type: basic, endpoint: "b.example/?access_token=`+s+`", username: u, passwordEnv: PW}
  - {name: c, type: basic, endpoint: c.example, username: u, passwordEnv: `+s+`}
`, 0o600)
	stdout, stderr, code := ocicred(t, "config", "validate", cfg)
	out := stdout + stderr
	if strings.Contains(strings.ToLower(out), strings.ToLower(s)) {
		t.Errorf("validate quotes the secret:\n%s", strings.ReplaceAll(out, s, "<SECRET>"))
	}
	for _, want := range []string{
		cfg + ":2:38: registries[0].endpoint: holds a user name or password",
		cfg + ":3:38: registries[1].endpoint: holds a query string",
		cfg + ":4:75: registries[2].passwordEnv: is not an environment variable name",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("validate output lacks %q:\n%s", want, strings.ReplaceAll(out, s, "<SECRET>"))
		}
	}
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
}

// setup kubelet leaves a registry that allow restricts out of matchImages
// unless nodeWide: true; config validate and the kubelet plugin say and do
// the same.
func TestKubeletLeavesOutRestrictedRegistries(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, `registries:
  - {name: open, type: basic, endpoint: open.example, username: u, password: pw-open}
  - {name: team, type: basic, endpoint: team.example, username: u, password: pw-team, allow: [root]}
  - {name: shared, type: basic, endpoint: shared.example, username: u, password: pw-shared, allow: [root], nodeWide: true}
`, 0o600)
	providerCfg := filepath.Join(dir, "provider.yaml")
	stdout, stderr, code := ocicred(t, "setup", "kubelet", "--config", cfg, "--config-file", providerCfg, "--bin-dir", filepath.Join(dir, "bin"))
	if code != 0 {
		t.Fatalf("setup kubelet: exit %d: %s %s", code, stdout, stderr)
	}
	data, err := os.ReadFile(providerCfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "- open.example\n") || !strings.Contains(string(data), "- shared.example\n") || strings.Contains(string(data), "team.example") {
		t.Errorf("matchImages must list open and shared, not team:\n%s", data)
	}
	if !strings.Contains(stdout, "matches 2 registries") || !strings.Contains(stdout, "team: left out: allow restricts it") {
		t.Errorf("setup kubelet does not say what it left out:\n%s", stdout)
	}

	stdout, _, code = ocicred(t, "config", "validate", cfg)
	if code != 0 || !strings.Contains(stdout, "registries[1] (team): note: allow restricts it") || strings.Contains(stdout, "(shared)") {
		t.Errorf("validate: exit %d\n%s", code, stdout)
	}

	run := func(image string) (kubeletplugin.Response, int) {
		var out, errOut bytes.Buffer
		in := `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"` + image + `"}`
		code := Main(context.Background(), []string{"kubelet-credential-provider", "--config", cfg, "--socket", filepath.Join(dir, "none.sock")},
			strings.NewReader(in), &out, &errOut)
		var resp kubeletplugin.Response
		_ = json.Unmarshal(out.Bytes(), &resp)
		return resp, code
	}
	if resp, code := run("team.example/app:v1"); code != 0 || len(resp.Auth) != 0 {
		t.Errorf("kubelet plugin, restricted registry: exit %d, %d auths", code, len(resp.Auth))
	}
	if resp, code := run("shared.example/app:v1"); code != 0 || resp.Auth["shared.example"].Password != "pw-shared" {
		t.Errorf("kubelet plugin, nodeWide registry: exit %d", code)
	}
}

func TestStatusPrintsNotes(t *testing.T) {
	var out bytes.Buffer
	printStatus(globals{stdout: &out}, &localapi.Status{Config: "c.yaml", Registries: []localapi.RegistryStatus{
		{Name: "team", Type: "basic", Endpoint: "team.example", State: "static", Note: config.NodeWideNote},
		{Name: "open", Type: "basic", Endpoint: "open.example", State: "static"},
	}})
	if !strings.Contains(out.String(), "\nteam: allow restricts it") || strings.Contains(out.String(), "open: allow") {
		t.Errorf("status:\n%s", out.String())
	}
}

// `ocicred list` (the helper's list without the daemon) says why it cannot
// answer, on stdout as get does, where the helper reads it.
func TestListSaysWhy(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "none.sock")
	for cfg, want := range map[string]string{
		filepath.Join(dir, "missing.yaml"): "missing.yaml: no such file; create it",
		dir:                                "is not a regular file: a folder; --config takes a file",
	} {
		stdout, _, code := ocicred(t, "list", "--quiet", "--config", cfg, "--socket", sock)
		if code != 1 || !strings.Contains(stdout, want) {
			t.Errorf("list --config %s: exit %d, stdout %q; want exit 1 and %q", cfg, code, stdout, want)
		}
	}
}

// After "--", an address that looks like a flag is the address.
func TestGetTakesAnAddressAfterDashDash(t *testing.T) {
	_, cfg := setupConfig(t)
	stdout, stderr, code := ocicred(t, "get", "--no-daemon", "--config", cfg, "--", "-h")
	if code != 1 || stdout != "credentials not found in native keychain\n" || !strings.Contains(stderr, "has the endpoint -h") {
		t.Errorf("get -- -h: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// The helper names the socket that gave no answer; ocicred get then
// answers from the config at once instead of waiting for it again.
func TestGetSkipsTheSilentSocket(t *testing.T) {
	dir, cfg := setupConfig(t)
	sock := filepath.Join(dir, "silent.sock") // nothing listens: asking would fail, not hang
	stdout, stderr, code := ocicred(t, "get", "--config", cfg, "--socket", sock, "--skip-socket", sock, "--", "127.0.0.1:5000")
	if code != 0 || !strings.Contains(stdout, `"Secret":"pw-alice"`) || !strings.Contains(stderr, "the daemon at "+sock+" gave no answer") {
		t.Errorf("get --skip-socket: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
