package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocicred/ocicred/internal/iampolicy"
)

func TestPolicyRoles(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "sa.json")
	writeFile(t, key, `{"type":"service_account","client_email":"puller@p.iam.gserviceaccount.com","private_key":"SECRET-KEY-MATERIAL"}`, 0o600)
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, `registries:
  - {name: prod, type: ecr, endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com}
  - {name: gar, type: gar, endpoint: europe-west3-docker.pkg.dev, credentials: {type: serviceAccountKey, keyFile: `+key+`}}
  - {name: acr, type: acr, endpoint: contoso.azurecr.io, credentials: {type: managedIdentity, clientId: 00000000-0000-0000-0000-000000000002}}
`, 0o600)

	// The IAM policy on stdout stays an IAM policy; the roles are named on stderr.
	out, errOut, code := ocicred(t, "--config", cfg, "policy")
	var doc iampolicy.Document
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || len(doc.Statement) == 0 {
		t.Fatalf("policy: exit %d, stdout %q", code, out)
	}
	if !strings.Contains(errOut, "2 gar or acr registries need cloud roles") {
		t.Errorf("policy stderr = %q", errOut)
	}

	out, _, code = ocicred(t, "--config", cfg, "policy", "--roles")
	var grants []iampolicy.Grant
	if code != 0 || json.Unmarshal([]byte(out), &grants) != nil || len(grants) != 2 {
		t.Fatalf("policy --roles: exit %d, stdout %q", code, out)
	}
	if g := grants[0]; g.Role != "roles/artifactregistry.reader" || g.Member != "serviceAccount:puller@p.iam.gserviceaccount.com" {
		t.Errorf("gar grant = %+v", g)
	}
	if g := grants[1]; g.Role != "AcrPull" || g.Assignee != "00000000-0000-0000-0000-000000000002" {
		t.Errorf("acr grant = %+v", g)
	}
	if strings.Contains(out, "SECRET-KEY-MATERIAL") {
		t.Error("policy --roles printed the key")
	}
}
