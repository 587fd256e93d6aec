package acrtoken

import (
	"os"
	"testing"

	"github.com/ocicred/ocicred/test/azfake"
)

// TestClientCertificate: a PEM certificate file signs the assertion; a
// certificate rotated on disk is read again; a certificate Entra does not
// know is refused.
func TestClientCertificate(t *testing.T) {
	w := start(t, nil)
	cert, pemBytes, err := azfake.NewCertificate("ocicred")
	if err != nil {
		t.Fatal(err)
	}
	w.fake.AddClientCertificate(tenant, appID, cert)
	w.reg.Grant(appID)
	path := writeFile(t, "client.pem", pemBytes)
	reg := w.registry(t, w.reg, "    tenantId: "+tenant+"\n", "{type: clientCertificate, clientId: "+appID+", certificateFile: "+path+"}", nil)
	if _, err := w.f.Fetch(testCtx(t), reg); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if c := lastOf(t, w.fake, azfake.EndpointToken); c.Assertion != "certificate" || c.Status != 200 {
		t.Errorf("token call %+v, want a certificate assertion", c)
	}

	// Rotated on disk to a certificate Entra does not know: refused.
	_, otherPEM, _ := azfake.NewCertificate("stranger")
	if err := os.WriteFile(path, otherPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = w.f.Fetch(testCtx(t), reg)
	wantFailure(t, err, KindBadCertificate, "AADSTS700027")

	// Rotated to one it knows: accepted again.
	newCert, newPEM, _ := azfake.NewCertificate("rotated")
	w.fake.AddClientCertificate(tenant, appID, newCert)
	if err := os.WriteFile(path, newPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := w.f.Fetch(testCtx(t), reg); err != nil {
		t.Errorf("after rotation: %v", err)
	}

	// Not a certificate at all.
	if err := os.WriteFile(path, []byte("not a pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = w.f.Fetch(testCtx(t), reg)
	wantFailure(t, err, KindBadCertificate, "")
}

// lastOf is the last call to endpoint.
func lastOf(t *testing.T, s *azfake.Server, endpoint string) azfake.Call {
	t.Helper()
	calls := s.Calls()
	for i := len(calls) - 1; i >= 0; i-- {
		if calls[i].Endpoint == endpoint {
			return calls[i]
		}
	}
	t.Fatalf("no call to %s", endpoint)
	return azfake.Call{}
}

// TestManagedIdentity: system-assigned, by client id and by resource id,
// through IMDS (the injected transport routes 169.254.169.254 to the
// fake); an identity not assigned to the machine is said so. The tenant
// sent to the exchange is the token's when the config names none.
func TestManagedIdentity(t *testing.T) {
	w := start(t, nil)
	const system = "55555555-5555-5555-5555-555555555555"
	user, byRes := uniqueID(), uniqueID()
	resID := "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/p" + byRes[:8]
	w.fake.AddManagedIdentity(azfake.ManagedIdentity{System: true, ClientID: system})
	w.fake.AddManagedIdentity(azfake.ManagedIdentity{ClientID: user})
	w.fake.AddManagedIdentity(azfake.ManagedIdentity{ClientID: byRes, ResourceID: resID})
	for _, id := range []string{system, user, byRes} {
		w.reg.Grant(id)
	}
	for _, tc := range []struct{ name, cred, who string }{
		{"system", "{type: managedIdentity}", system},
		{"client id", "{type: managedIdentity, clientId: " + user + "}", user},
		{"resource id", "{type: managedIdentity, resourceId: " + resID + "}", byRes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := w.registry(t, w.reg, "", tc.cred, nil)
			if _, err := w.f.Fetch(testCtx(t), reg); err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			c := lastOf(t, w.fake, azfake.EndpointExchange)
			if c.ClientID != tc.who || c.Tenant != azfake.DefaultTenant {
				t.Errorf("exchange for %s in %s, want %s in %s", c.ClientID, c.Tenant, tc.who, azfake.DefaultTenant)
			}
		})
	}
	if tc := lastOf(t, w.fake, azfake.EndpointIMDS); tc.Status != 200 {
		t.Errorf("IMDS call %+v", tc)
	}
	reg := w.registry(t, w.reg, "", "{type: managedIdentity, clientId: "+uniqueID()+"}", nil)
	_, err := w.f.Fetch(testCtx(t), reg)
	f := wantFailure(t, err, KindNoCredentials, "invalid_request")
	t.Log(f.Msg)
}

// TestWorkloadIdentity: the federated token file is the assertion; the
// token file named in the config wins over AZURE_FEDERATED_TOKEN_FILE.
func TestWorkloadIdentity(t *testing.T) {
	w := start(t, nil)
	w.fake.AddFederated(tenant, appID, "header.projected-sa-token.sig")
	w.reg.Grant(appID)
	good := writeFile(t, "token", []byte("header.projected-sa-token.sig"))
	bad := writeFile(t, "other", []byte("header.another-token.sig"))
	t.Setenv("AZURE_FEDERATED_TOKEN_FILE", bad)
	reg := w.registry(t, w.reg, "    tenantId: "+tenant+"\n", "{type: workloadIdentity, clientId: "+appID+", tokenFile: "+good+"}", nil)
	if _, err := w.f.Fetch(testCtx(t), reg); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if c := lastOf(t, w.fake, azfake.EndpointToken); c.Assertion != "federated" {
		t.Errorf("token call %+v, want a federated assertion", c)
	}
	// From the environment: the wrong token.
	reg = w.registry(t, w.reg, "    tenantId: "+tenant+"\n", "{type: workloadIdentity, clientId: "+appID+"}", nil)
	_, err := w.f.Fetch(testCtx(t), reg)
	wantFailure(t, err, KindBadIdentity, "AADSTS70021")
	// No file at all: no credentials.
	t.Setenv("AZURE_FEDERATED_TOKEN_FILE", "")
	t.Setenv("AZURE_CLIENT_ID", "")
	reg = w.registry(t, w.reg, "    tenantId: "+tenant+"\n", "{type: workloadIdentity}", nil)
	_, err = w.f.Fetch(testCtx(t), reg)
	wantFailure(t, err, KindNoCredentials, "")
}

// TestDefaultChain: azidentity's default chain finds the environment's
// service principal; with nothing to find, it says no credentials.
func TestDefaultChain(t *testing.T) {
	w := start(t, nil)
	w.fake.AddClientSecret(tenant, appID, secretV)
	w.reg.Grant(appID)
	for _, k := range []string{"AZURE_FEDERATED_TOKEN_FILE", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME", "IDENTITY_ENDPOINT", "MSI_ENDPOINT"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AZURE_TENANT_ID", tenant)
	t.Setenv("AZURE_CLIENT_ID", appID)
	t.Setenv("AZURE_CLIENT_SECRET", secretV)
	reg := w.registry(t, w.reg, "", "{type: default}", nil)
	if _, err := w.f.Fetch(testCtx(t), reg); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if c := lastOf(t, w.fake, azfake.EndpointToken); c.Assertion != "secret" || c.ClientID != appID {
		t.Errorf("token call %+v, want the environment's secret", c)
	}

	for _, k := range []string{"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"} {
		os.Unsetenv(k)
	}
	t.Setenv("PATH", t.TempDir()) // no az, azd or pwsh to run
	// A user-assigned identity IMDS does not know (MSAL caches a
	// system-assigned identity's token process-wide, so another test's
	// would be found).
	t.Setenv("AZURE_CLIENT_ID", uniqueID())
	empty := start(t, nil) // its IMDS has no identity
	reg = empty.registry(t, empty.reg, "", "{type: default}", nil)
	_, err := empty.f.Fetch(testCtx(t), reg)
	f := wantFailure(t, err, KindNoCredentials, "")
	t.Log(f.Msg)
}
