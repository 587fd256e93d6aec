package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cloudSpec is the spec's "Other clouds" example, with the key file and
// client secret made real.
const cloudSpec = `registries:
  - name: gar-eu
    type: gar
    endpoint: europe-west3-docker.pkg.dev
    credentials:
      type: serviceAccountKey
      keyFile: KEYFILE
  - name: acr-prod
    type: acr
    endpoint: contoso.azurecr.io
    tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47
    cloud: public
    disableInstanceDiscovery: false
    credentials:
      type: clientSecret
      clientId: 00000000-0000-0000-0000-000000000001
      clientSecretFile: SECRETFILE
  - name: gar-imp
    type: gar
    endpoint: gcr.io
    credentials:
      type: impersonate
      serviceAccount: puller@proj.iam.gserviceaccount.com
      lifetime: 1h
      base: {type: serviceAccountKey, keyEnv: GKEY}
  - name: gar-node
    type: gar
    endpoint: docker.us-central1.rep.pkg.dev
  - name: acr-mi
    type: acr
    endpoint: fabrikam.azurecr.cn
    cloud: china
    credentials: {type: managedIdentity, resourceId: /subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/puller}
`

const testKey = `{
  "type": "service_account",
  "client_email": "puller@proj.iam.gserviceaccount.com",
  "private_key": "-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n",
  "token_uri": "https://oauth2.googleapis.com/token"
}
`

func TestParseCloudExample(t *testing.T) {
	dir := t.TempDir()
	keyFile, secretFile := filepath.Join(dir, "sa.json"), filepath.Join(dir, "acr.secret")
	must(t, os.WriteFile(keyFile, []byte(testKey), 0o600))
	must(t, os.WriteFile(secretFile, []byte("client-secret-value\n"), 0o600))
	in := strings.NewReplacer("KEYFILE", keyFile, "SECRETFILE", secretFile).Replace(cloudSpec)
	c, err := Parse([]byte(in), "c.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	env := map[string]string{"GKEY": testKey}
	src := Sources{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }, ReadFile: ReadSecretFile}
	if err := c.ResolveSecrets(src); err != nil {
		t.Fatalf("ResolveSecrets: %v", err)
	}
	gar, acr, imp, node, mi := c.Registries[0], c.Registries[1], c.Registries[2], c.Registries[3], c.Registries[4]
	if !gar.IsProtected() || gar.User() != UserGAR || gar.Credentials.ServiceAccountKey().Reveal() != testKey {
		t.Errorf("gar-eu: protected %v, user %q, key resolved %v", gar.IsProtected(), gar.User(), gar.Credentials.ServiceAccountKey().Reveal() == testKey)
	}
	if !acr.IsProtected() || acr.User() != UserACR || acr.Credentials.ClientSecretValue().Reveal() != "client-secret-value" ||
		acr.AzureAuthority() != "https://login.microsoftonline.com/" {
		t.Errorf("acr-prod: protected %v, user %q, authority %q", acr.IsProtected(), acr.User(), acr.AzureAuthority())
	}
	if imp.Credentials.Base.ServiceAccountKey().Reveal() != testKey || imp.Credentials.Lifetime.Hours() != 1 {
		t.Errorf("gar-imp: base key resolved %v, lifetime %v", imp.Credentials.Base.ServiceAccountKey().Reveal() == testKey, imp.Credentials.Lifetime)
	}
	if node.Credentials == nil || node.Credentials.Type != CredDefault {
		t.Errorf("gar-node credentials = %+v, want the default chain", node.Credentials)
	}
	if mi.AzureAuthority() != "https://login.chinacloudapi.cn/" {
		t.Errorf("acr-mi authority = %q", mi.AzureAuthority())
	}
	files := strings.Join(c.Files(), " ")
	if !strings.Contains(files, keyFile) || !strings.Contains(files, secretFile) {
		t.Errorf("Files() = %s; want the key and secret files, which the watcher follows", files)
	}
	before := c.Fingerprint()
	must(t, os.WriteFile(secretFile, []byte("rotated\n"), 0o600))
	must(t, c.ResolveSecrets(src))
	if c.Fingerprint() == before {
		t.Error("a rotated client secret left the fingerprint unchanged")
	}
}

func TestParseCloudErrors(t *testing.T) {
	gar := "registries:\n  - name: g\n    type: gar\n    endpoint: "
	acr := "registries:\n  - name: a\n    type: acr\n    endpoint: "
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"look-alike google host", gar + "gcr.io.evil.com\n",
			[]string{`c.yaml:4:15: registries[0].endpoint: is not a Google registry host`}},
		{"look-alike azure host", acr + "contoso.azurecr.io.attacker.com\n",
			[]string{`c.yaml:4:15: registries[0].endpoint: is not an Azure Container Registry login server`}},
		{"loopback mirror allowed", gar + "http://127.0.0.1:5000\n", nil},
		{"aws fields in gar", gar + "gcr.io\n    region: us-east-1\n    credentials: {type: default, roleArn: x}\n",
			[]string{`c.yaml:5:13: registries[0].region: does not apply to type gar`,
				`c.yaml:6:43: registries[0].credentials.roleArn: is a credentials field of type ecr registries, not of gar; remove it`}},
		{"key needs a source", gar + "gcr.io\n    credentials: {type: serviceAccountKey}\n",
			[]string{`c.yaml:5:18: registries[0].credentials.keyFile: is required for serviceAccountKey`}},
		{"impersonate", gar + "gcr.io\n    credentials: {type: impersonate, serviceAccount: bob@example.com, lifetime: 24h, base: {type: impersonate}}\n",
			[]string{`registries[0].credentials.serviceAccount: is not a service account email`,
				`registries[0].credentials.lifetime: must be from 1m to 12h`,
				`registries[0].credentials.base.type: impersonate cannot be the base of impersonate`}},
		{"azure type in gar", gar + "gcr.io\n    credentials: {type: clientSecret}\n",
			[]string{`registries[0].credentials.type: is not a credentials type of gar registries`}},
		{"client secret needs tenant and id", acr + "contoso.azurecr.io\n    credentials: {type: clientSecret, clientSecretEnv: S}\n",
			[]string{`c.yaml:2:5: registries[0].tenantId: is required for clientSecret`,
				`registries[0].credentials.clientId: is required for clientSecret`}},
		{"cloud and authority", acr + "contoso.azurecr.io\n    cloud: moon\n    authorityHost: http://login.example\n",
			[]string{`registries[0].cloud: is not an Azure cloud`, `registries[0].authorityHost: cloud and authorityHost are both given`}},
		{"bad authority", acr + "contoso.azurecr.io\n    authorityHost: http://login.example\n",
			[]string{`registries[0].authorityHost: must be an https URL`}},
		{"private cloud host with authority", acr + "reg.azurecr.example\n    authorityHost: https://login.example/\n", nil},
		{"managed identity by both", acr + "contoso.azurecr.io\n    credentials: {type: managedIdentity, clientId: 00000000-0000-0000-0000-000000000001, resourceId: /subscriptions/s/resourceGroups/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x}\n",
			[]string{`registries[0].credentials.resourceId: clientId and resourceId are both given`}},
		{"tenant fields on basic", "registries:\n  - {name: b, type: basic, endpoint: b.example, username: u, passwordEnv: P, tenantId: t}\n",
			[]string{`registries[0].tenantId: applies to type acr only; remove it`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "c.yaml")
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("Parse = %v, want errors", err)
			}
			got := es.Error()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("errors:\n%s\nwant one containing:\n%s", got, w)
				}
			}
			if len(es) != len(tc.want) {
				t.Errorf("%d errors, want %d:\n%s", len(es), len(tc.want), got)
			}
		})
	}
}

func TestResolveServiceAccountKeyShape(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"not json":         "private_key=SECRET-MATERIAL\n",
		"external account": `{"type":"external_account","audience":"SECRET-MATERIAL"}`,
		"no private key":   `{"type":"service_account","client_email":"a@b.iam.gserviceaccount.com","x":"SECRET-MATERIAL"}`,
	} {
		t.Run(name, func(t *testing.T) {
			f := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
			must(t, os.WriteFile(f, []byte(content), 0o600))
			c, err := Parse([]byte("registries:\n  - {name: g, type: gar, endpoint: gcr.io, credentials: {type: serviceAccountKey, keyFile: "+f+"}}\n"), "c.yaml")
			must(t, err)
			err = c.ResolveSecrets(OS)
			var es Errors
			if !errors.As(err, &es) || len(es) != 1 || es[0].Field != "registries[0].credentials.keyFile" {
				t.Fatalf("ResolveSecrets = %v, want one error at the keyFile", err)
			}
			if strings.Contains(err.Error(), "SECRET-MATERIAL") {
				t.Errorf("the error quotes the key file: %v", err)
			}
		})
	}
}
