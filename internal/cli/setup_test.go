package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const setupYAML = `registries:
  - {name: h, type: basic, endpoint: "http://127.0.0.1:5000", username: u, passwordEnv: P}
  - {name: hub, type: basic, endpoint: docker.io, username: u, passwordEnv: P}
  - {name: e, type: ecr, endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com}
  - {name: pub, type: ecr, endpoint: public.ecr.aws, protected: false}
`

func TestSetupDockerPodmanHelm(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, setupYAML, 0o600)
	t.Setenv("OCICRED_CONFIG", cfg) // the config the helper reads, as setup requires
	t.Setenv("DOCKER_CONFIG", filepath.Join(dir, "docker"))
	t.Setenv("REGISTRY_AUTH_FILE", filepath.Join(dir, "containers", "auth.json"))
	t.Setenv("HELM_REGISTRY_CONFIG", filepath.Join(dir, "helm", "config.json"))
	tests := []struct {
		client, file string
		want         map[string]string
	}{
		{"docker", "docker/config.json", map[string]string{"127.0.0.1:5000": "ocicred", "https://index.docker.io/v1/": "ocicred", "123456789012.dkr.ecr.us-west-2.amazonaws.com": "ocicred"}},
		{"podman", "containers/auth.json", map[string]string{"127.0.0.1:5000": "ocicred", "docker.io": "ocicred", "123456789012.dkr.ecr.us-west-2.amazonaws.com": "ocicred"}},
		{"helm", "helm/config.json", map[string]string{"127.0.0.1:5000": "ocicred", "https://index.docker.io/v1/": "ocicred", "123456789012.dkr.ecr.us-west-2.amazonaws.com": "ocicred"}},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.file)
		stdout, _, code := ocicred(t, "setup", tt.client, "--config", cfg, "--dry-run")
		if code != 0 || !strings.Contains(stdout, "would add") {
			t.Errorf("setup %s --dry-run: %q, exit %d", tt.client, stdout, code)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("setup %s --dry-run wrote %s", tt.client, path)
		}
		if _, _, code := ocicred(t, "setup", tt.client, "--config", cfg); code != 0 {
			t.Fatalf("setup %s: exit %d", tt.client, code)
		}
		var doc struct{ CredHelpers map[string]string }
		data, err := os.ReadFile(path)
		if err != nil || json.Unmarshal(data, &doc) != nil {
			t.Fatalf("%s: %v %s", path, err, data)
		}
		if len(doc.CredHelpers) != len(tt.want) {
			t.Errorf("%s credHelpers = %v, want %v", tt.client, doc.CredHelpers, tt.want)
		}
		for k, v := range tt.want {
			if doc.CredHelpers[k] != v {
				t.Errorf("%s credHelpers[%s] = %q", tt.client, k, doc.CredHelpers[k])
			}
		}
		if stdout, _, _ := ocicred(t, "setup", tt.client, "--config", cfg); !strings.Contains(stdout, "already up to date") {
			t.Errorf("setup %s twice: %q", tt.client, stdout)
		}
		if _, _, code := ocicred(t, "setup", tt.client, "--config", cfg, "--remove"); code != 0 {
			t.Errorf("setup %s --remove: exit %d", tt.client, code)
		}
		data, _ = os.ReadFile(path)
		if strings.Contains(string(data), "ocicred") {
			t.Errorf("after --remove: %s", data)
		}
	}
}

func TestSetupKubelet(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, setupYAML, 0o600)
	providerCfg := filepath.Join(dir, "kubelet", "provider.yaml")
	// An existing file with another provider must keep it.
	writeFile(t, filepath.Join(dir, "placeholder"), "", 0o600)
	if err := os.MkdirAll(filepath.Dir(providerCfg), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, providerCfg, "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n  - name: ecr-credential-provider\n    matchImages: ['*.dkr.ecr.*.amazonaws.com']\n    defaultCacheDuration: 12h\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n", 0o644)
	binDir := filepath.Join(dir, "bin")
	for range 2 { // twice: idempotent
		if stdout, stderr, code := ocicred(t, "setup", "kubelet", "--config", cfg, "--config-file", providerCfg, "--bin-dir", binDir); code != 0 {
			t.Fatalf("setup kubelet: %s %s exit %d", stdout, stderr, code)
		}
	}
	var doc struct {
		Kind      string
		Providers []struct {
			Name        string
			MatchImages []string `yaml:"matchImages"`
			APIVersion  string   `yaml:"apiVersion"`
			Args        []string
			Env         []struct{ Name, Value string }
		}
	}
	data, _ := os.ReadFile(providerCfg)
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Kind != "CredentialProviderConfig" || len(doc.Providers) != 2 || doc.Providers[0].Name != "ecr-credential-provider" {
		t.Fatalf("providers: %s", data)
	}
	p := doc.Providers[1]
	if p.Name != "ocicred" || strings.Join(p.MatchImages, ",") != "127.0.0.1:5000,docker.io,123456789012.dkr.ecr.us-west-2.amazonaws.com" ||
		p.APIVersion != "credentialprovider.kubelet.k8s.io/v1" || strings.Join(p.Args, " ") != "kubelet-credential-provider" ||
		len(p.Env) != 1 || p.Env[0].Value != cfg {
		t.Errorf("ocicred provider = %+v", p)
	}
	if target, err := os.Readlink(filepath.Join(binDir, "ocicred")); err != nil || target == "" {
		t.Errorf("plugin link: %q, %v", target, err)
	}
}

// setup docker, podman and helm refuse a --config the helper will not
// read (it reads OCICRED_CONFIG or the default path), with exit 2 and what
// to do, and write nothing; the same file through OCICRED_CONFIG works.
func TestSetupRefusesAConfigTheHelperWillNotRead(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, setupYAML, 0o600)
	t.Setenv("OCICRED_CONFIG", "")
	t.Setenv("DOCKER_CONFIG", filepath.Join(dir, "docker"))
	t.Setenv("REGISTRY_AUTH_FILE", filepath.Join(dir, "containers", "auth.json"))
	t.Setenv("HELM_REGISTRY_CONFIG", filepath.Join(dir, "helm", "config.json"))
	for _, client := range []string{"docker", "podman", "helm"} {
		_, stderr, code := ocicred(t, "setup", client, "--config", cfg)
		if code != 2 || !strings.Contains(stderr, "OCICRED_CONFIG="+cfg) || !strings.Contains(stderr, "/etc/ocicred/config.yaml") {
			t.Errorf("setup %s --config %s: exit %d, %q", client, cfg, code, stderr)
		}
	}
	for _, f := range []string{"docker/config.json", "containers/auth.json", "helm/config.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Errorf("a refused setup wrote %s", f)
		}
	}
	t.Setenv("OCICRED_CONFIG", filepath.Join(dir, ".", "config.yaml"))
	if _, stderr, code := ocicred(t, "setup", "docker", "--config", cfg); code != 0 {
		t.Errorf("setup docker with OCICRED_CONFIG naming the same file: exit %d, %q", code, stderr)
	}
}

// setup kubelet keeps a JSON CredentialProviderConfig JSON (EKS ships
// one; tools edit it with jq), edits a symlinked one through the link, and
// counts the registries it lists, not every registry in the config.
func TestSetupKubeletKeepsJSONAndLinks(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, setupYAML, 0o600) // 4 registries, 3 with credentials
	real := filepath.Join(dir, "eks", "config.json")
	if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, real, `{"apiVersion":"kubelet.config.k8s.io/v1","kind":"CredentialProviderConfig","providers":[{"name":"ecr-credential-provider","matchImages":["*.dkr.ecr.*.amazonaws.com"],"defaultCacheDuration":"12h","apiVersion":"credentialprovider.kubelet.k8s.io/v1"}]}`, 0o644)
	link := filepath.Join(dir, "provider-config.json")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := ocicred(t, "setup", "kubelet", "--config", cfg, "--config-file", link, "--bin-dir", filepath.Join(dir, "bin"))
	if code != 0 {
		t.Fatalf("setup kubelet: %s %s exit %d", stdout, stderr, code)
	}
	if !strings.Contains(stdout, "matches 3 registries") {
		t.Errorf("setup kubelet says %q, want it to count the 3 registries it lists", stdout)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Error("setup kubelet replaced the symlink")
	}
	var doc struct {
		Providers []struct {
			Name        string
			MatchImages []string
		}
	}
	data, _ := os.ReadFile(real)
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("the JSON file is no longer JSON: %v\n%s", err, data)
	}
	if len(doc.Providers) != 2 || doc.Providers[0].Name != "ecr-credential-provider" || len(doc.Providers[1].MatchImages) != 3 {
		t.Errorf("providers: %s", data)
	}
}

// setup docker stops with exit 1 naming another helper's entry for the
// same host, replaces it with --force, and --remove puts it back.
func TestSetupDockerForeignEntry(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, setupYAML, 0o600)
	t.Setenv("OCICRED_CONFIG", cfg)
	t.Setenv("DOCKER_CONFIG", filepath.Join(dir, "docker"))
	path := filepath.Join(dir, "docker", "config.json")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	orig := `{"credHelpers":{"127.0.0.1:5000":"pass"}}`
	writeFile(t, path, orig, 0o600)
	stdout, stderr, code := ocicred(t, "setup", "docker")
	if code != 1 || !strings.Contains(stderr, `credHelpers["127.0.0.1:5000"] = "pass"`) || strings.Contains(stdout, "added") {
		t.Fatalf("setup docker over pass: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if b, _ := os.ReadFile(path); string(b) != orig {
		t.Errorf("the refused setup wrote %s", b)
	}
	if stdout, _, code := ocicred(t, "setup", "docker", "--force"); code != 0 || !strings.Contains(stdout, `in place of "pass"`) {
		t.Fatalf("setup docker --force: exit %d, %q", code, stdout)
	}
	if stdout, _, code := ocicred(t, "setup", "docker", "--remove"); code != 0 || !strings.Contains(stdout, `putting back "pass"`) {
		t.Fatalf("setup docker --remove: exit %d, %q", code, stdout)
	}
	var doc struct{ CredHelpers map[string]string }
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &doc); err != nil || len(doc.CredHelpers) != 1 || doc.CredHelpers["127.0.0.1:5000"] != "pass" {
		t.Errorf("after --remove: %s", data)
	}
}
