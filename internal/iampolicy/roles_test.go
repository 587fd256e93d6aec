package iampolicy

import (
	"testing"

	"github.com/ocicred/ocicred/config"
)

func TestRoles(t *testing.T) {
	cfg, err := config.Parse([]byte(`registries:
  - {name: ecr, type: ecr, endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com}
  - {name: g, type: gar, endpoint: gcr.io, credentials: {type: impersonate, serviceAccount: puller@p.iam.gserviceaccount.com}}
  - {name: node, type: gar, endpoint: us-docker.pkg.dev}
  - {name: a, type: acr, endpoint: contoso.azurecr.io, tenantId: contoso.onmicrosoft.com,
     credentials: {type: clientSecret, clientId: 00000000-0000-0000-0000-000000000001, clientSecretEnv: S}}
  - {name: mi, type: acr, endpoint: fabrikam.azurecr.io, credentials: {type: managedIdentity}}
`), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := Roles(cfg)
	want := []Grant{
		{Registry: "g", Cloud: "google", Role: RoleGoogleReader, Member: "serviceAccount:puller@p.iam.gserviceaccount.com"},
		{Registry: "node", Cloud: "google", Role: RoleGoogleReader},
		{Registry: "a", Cloud: "azure", Role: RoleAzurePull, Assignee: "00000000-0000-0000-0000-000000000001"},
		{Registry: "mi", Cloud: "azure", Role: RoleAzurePull},
	}
	if len(got) != len(want) {
		t.Fatalf("Roles = %+v, want %d grants (none for ECR)", got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Registry != w.Registry || g.Cloud != w.Cloud || g.Role != w.Role || g.Member != w.Member || g.Assignee != w.Assignee || g.Identity == "" {
			t.Errorf("grant %d = %+v, want %+v and an identity in words", i, g, w)
		}
	}
}
