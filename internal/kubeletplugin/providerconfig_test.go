package kubeletplugin

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocicred/ocicred/config"
)

// Provider matches the registries for the whole node and names the others;
// SetProvider replaces ocicred's entry in place, keeps the other
// providers, and keeps a JSON file JSON.
func TestSetProvider(t *testing.T) {
	cfg, err := config.Parse([]byte(`registries:
  - {name: open, type: basic, endpoint: open.example, username: u, password: pw}
  - {name: team, type: basic, endpoint: team.example, username: u, password: pw, allow: [root]}
  - {name: gallery, type: ecr, endpoint: public.ecr.aws, protected: false}
`), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	provider, left := Provider(cfg, "/srv/ocicred.yaml", "/run/o.sock")
	if m := provider["matchImages"].([]string); len(m) != 1 || m[0] != "open.example" {
		t.Errorf("matchImages %v, want [open.example]", m)
	}
	if len(left) != 1 || left[0].Name != "team" {
		t.Errorf("left out %v, want team", left)
	}
	env, _ := json.Marshal(provider["env"])
	if string(env) != `[{"name":"OCICRED_CONFIG","value":"/srv/ocicred.yaml"},{"name":"OCICRED_SOCKET","value":"/run/o.sock"}]` {
		t.Errorf("env %s", env)
	}
	if p, _ := Provider(cfg, config.DefaultPath, ""); p["env"] != nil {
		t.Errorf("env %v with the default config and socket", p["env"])
	}

	path := filepath.Join(t.TempDir(), "config.json")
	old := `{"apiVersion": "kubelet.config.k8s.io/v1", "kind": "CredentialProviderConfig", "providers": [
  {"name": "ecr-credential-provider", "matchImages": ["*.dkr.ecr.*.amazonaws.com"]},
  {"name": "ocicred", "matchImages": ["stale.example"]}]}`
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	edit, err := SetProvider(path, provider)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Providers []struct {
			Name        string
			MatchImages []string
		}
	}
	if !strings.HasPrefix(string(edit.After), "{\n") || json.Unmarshal(edit.After, &doc) != nil {
		t.Fatalf("not JSON any more:\n%s", edit.After)
	}
	if len(doc.Providers) != 2 || doc.Providers[0].Name != "ecr-credential-provider" || doc.Providers[1].Name != "ocicred" ||
		strings.Join(doc.Providers[1].MatchImages, ",") != "open.example" {
		t.Errorf("providers %+v", doc.Providers)
	}
	if edit.Mode != 0o600 {
		t.Errorf("mode %v, want the file's 0600", edit.Mode)
	}
	if err := edit.Write(); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != string(edit.After) {
		t.Errorf("written: %v", err)
	}

	if err := os.WriteFile(path, []byte("providers: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := SetProvider(path, provider); err == nil || !strings.Contains(err.Error(), "is not YAML or JSON") {
		t.Errorf("a broken file: %v", err)
	}
}
