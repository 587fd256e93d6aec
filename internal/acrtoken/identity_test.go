package acrtoken

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/secret"
)

func parseOne(t *testing.T, y string, env map[string]string) *config.Registry {
	t.Helper()
	c, err := config.Parse([]byte("registries:\n"+y), "c.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	src := config.Sources{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }, ReadFile: config.ReadSecretFile}
	if err := c.ResolveSecrets(src); err != nil {
		t.Fatal(err)
	}
	return c.Registries[0]
}

// TestKeys: one key per identity and registry host; a secret never shows.
func TestKeys(t *testing.T) {
	sp := func(host, secretEnv string) *config.Registry {
		return parseOne(t, `  - {name: a, type: acr, endpoint: `+host+`, tenantId: `+tenant+`,
     credentials: {type: clientSecret, clientId: `+appID+`, clientSecretEnv: S}}
`, map[string]string{"S": secretEnv})
	}
	a, b := sp("contoso.azurecr.io", secretV), sp("fabrikam.azurecr.io", secretV)
	if KeyOf(a) != KeyOf(sp("contoso.azurecr.io", secretV)) {
		t.Error("one identity and registry, two keys")
	}
	if KeyOf(a) == KeyOf(b) {
		t.Error("two registries share a key")
	}
	if identityOf(a) != identityOf(b) {
		t.Error("one identity on two registries is two identities: the Entra token would not be shared")
	}
	if KeyOf(a) == KeyOf(sp("contoso.azurecr.io", "rotated")) {
		t.Error("a rotated secret keeps the key")
	}
	if !strings.HasPrefix(string(KeyOf(a)), "acr:") || len(KeyOf(a)) != 36 {
		t.Errorf("key %q, want acr: and 32 hex digits", KeyOf(a))
	}
	mi := parseOne(t, "  - {name: m, type: acr, endpoint: contoso.azurecr.io, credentials: {type: managedIdentity}}\n", nil)
	mi2 := parseOne(t, "  - {name: m, type: acr, endpoint: contoso.azurecr.io, credentials: {type: managedIdentity, clientId: "+appID+"}}\n", nil)
	if KeyOf(mi) == KeyOf(mi2) || KeyOf(mi) == KeyOf(a) {
		t.Error("different identities share a key")
	}
	for _, reg := range []*config.Registry{a, b, mi, mi2} {
		for _, s := range []string{string(KeyOf(reg)), Describe(reg)} {
			if strings.Contains(s, secretV) {
				t.Errorf("%q shows the secret", s)
			}
		}
	}
	for reg, want := range map[*config.Registry]string{
		a:   "clientSecret " + appID + " in tenant " + tenant + " for contoso.azurecr.io",
		mi:  "managedIdentity system-assigned for contoso.azurecr.io",
		mi2: "managedIdentity clientId " + appID + " for contoso.azurecr.io",
	} {
		if got := Describe(reg); got != want {
			t.Errorf("Describe = %q, want %q", got, want)
		}
	}
	if Username != "00000000-0000-0000-0000-000000000000" {
		t.Errorf("Username %q", Username)
	}
}

// TestAuthority: authorityHost, else the cloud's, else "" (azidentity then
// reads AZURE_AUTHORITY_HOST, else the public cloud).
func TestAuthority(t *testing.T) {
	f := NewFetcher()
	for y, want := range map[string]string{
		"cloud: china":  "https://login.chinacloudapi.cn/",
		"cloud: usgov":  "https://login.microsoftonline.us/",
		"cloud: public": "https://login.microsoftonline.com/",
		"authorityHost: https://login.example.internal": "https://login.example.internal/",
		"tenantId: " + tenant:                           "",
	} {
		reg := parseOne(t, "  - {name: a, type: acr, endpoint: contoso.azurecr.io, "+y+"}\n", nil)
		if got := f.clientOptions(reg).Cloud.ActiveDirectoryAuthorityHost; got != want {
			t.Errorf("%s: authority %q, want %q", y, got, want)
		}
	}
}

// TestTokenPrintsRedacted: the token a Fetch returns prints as REDACTED.
func TestTokenPrintsRedacted(t *testing.T) {
	w := start(t, nil)
	w.fake.AddClientSecret(tenant, appID, secretV)
	w.reg.Grant(appID)
	tok, err := w.f.Fetch(testCtx(t), w.secretRegistry(t, w.reg, secretV))
	if err != nil {
		t.Fatal(err)
	}
	checkNoSecret(t, w, fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok.Password))
	if s := tok.Password.String(); s != secret.Redacted {
		t.Errorf("token prints as %q", s)
	}
}
