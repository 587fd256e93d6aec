package acrtoken

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/test/azfake"
)

// TestInstanceDiscovery: with disableInstanceDiscovery false, MSAL asks
// login.microsoftonline.com (which the fake's transport catches); with it
// true (TestClientSecretFetch), never.
func TestInstanceDiscovery(t *testing.T) {
	w := start(t, nil)
	w.fake.AddClientSecret(tenant, appID, secretV)
	w.reg.Grant(appID)
	reg := w.secretRegistry(t, w.reg, secretV)
	reg.DisableInstanceDiscovery = false
	if _, err := w.f.Fetch(testCtx(t), reg); err != nil {
		t.Fatal(err)
	}
	if w.fake.CallCount(azfake.EndpointDiscovery) == 0 {
		t.Error("no instance discovery with disableInstanceDiscovery false: the switch proves nothing")
	}
}

// TestAuthorityFromEnvironment: with neither cloud nor authorityHost,
// AZURE_AUTHORITY_HOST names the authority.
func TestAuthorityFromEnvironment(t *testing.T) {
	w := start(t, nil)
	w.fake.AddClientSecret(tenant, appID, secretV)
	w.reg.Grant(appID)
	t.Setenv("AZURE_AUTHORITY_HOST", w.fake.AuthorityHost())
	reg := parseOne(t, `  - {name: a, type: acr, endpoint: `+w.reg.URL+`, tenantId: `+tenant+`, disableInstanceDiscovery: true,
     credentials: {type: clientSecret, clientId: `+appID+`, clientSecretEnv: S}}
`, map[string]string{"S": secretV})
	if reg.AzureAuthority() != "" {
		t.Fatalf("the config names authority %q", reg.AzureAuthority())
	}
	if _, err := w.f.Fetch(testCtx(t), reg); err != nil {
		t.Fatal(err)
	}
	if w.fake.CallCount(azfake.EndpointToken) != 1 {
		t.Error("the environment's authority was not asked")
	}
}

// TestAsABinaryWould: how the real binaries meet the fake, with no test
// hook in the product. A subprocess (this test binary) uses the
// production Fetcher (no injected transport): Entra ID is trusted through
// SSL_CERT_FILE (Go reads it once per process, hence the subprocess), and
// managed identity is reached through the documented App Service
// environment (IDENTITY_ENDPOINT, IDENTITY_HEADER), since IMDS's address
// is a constant.
func TestAsABinaryWould(t *testing.T) {
	if os.Getenv("ACRTOKEN_CHILD") != "" {
		child(t)
		return
	}
	w := start(t, nil)
	w.fake.AddClientSecret(tenant, appID, secretV)
	mi := uniqueID()
	w.fake.AddManagedIdentity(azfake.ManagedIdentity{ClientID: mi})
	w.reg.Grant(appID)
	w.reg.Grant(mi)
	for _, cred := range []string{
		"{type: clientSecret, clientId: " + appID + ", clientSecretEnv: ACR_SECRET}",
		"{type: managedIdentity, clientId: " + mi + "}",
	} {
		cmd := exec.CommandContext(testCtx(t), os.Args[0], "-test.run=^TestAsABinaryWould$")
		cmd.Env = append(os.Environ(), w.fake.Env()...)
		cmd.Env = append(cmd.Env, w.fake.AppServiceEnv()...)
		cmd.Env = append(cmd.Env, "ACRTOKEN_CHILD=1", "ACR_SECRET="+secretV,
			"ACRTOKEN_REGISTRY="+`  - {name: a, type: acr, endpoint: `+w.reg.URL+`, tenantId: `+tenant+`, disableInstanceDiscovery: true, credentials: `+cred+`}`)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "CHILD-OK") {
			t.Errorf("%s: child: %v\n%s", cred, err, out)
		}
		if strings.Contains(string(out), secretV) {
			t.Errorf("the child printed the secret")
		}
	}
	if n := w.fake.CallCount(azfake.EndpointAppService); n != 1 {
		t.Errorf("%d App Service calls, want 1", n)
	}
	if n := w.fake.CallCount(azfake.EndpointExchange); n != 2 {
		t.Errorf("%d exchanges, want 2", n)
	}
}

// child fetches with the production Fetcher and prints CHILD-OK.
func child(t *testing.T) {
	reg := parseOne(t, os.Getenv("ACRTOKEN_REGISTRY")+"\n", map[string]string{"ACR_SECRET": os.Getenv("ACR_SECRET")})
	tok, err := NewFetcher().Fetch(testCtx(t), reg)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if tok.Password.IsZero() || reg.Type != config.TypeACR {
		t.Fatal("no token")
	}
	os.Stdout.WriteString("CHILD-OK\n")
}
