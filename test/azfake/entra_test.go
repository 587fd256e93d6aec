package azfake

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// TestClientSecret: the real ClientSecretCredential gets a token for the
// right secret only, and the token says who and for what.
func TestClientSecret(t *testing.T) {
	s := Start(t)
	s.AddClientSecret(DefaultTenant, appID, secretV)
	opts := &azidentity.ClientSecretCredentialOptions{ClientOptions: clientOptions(s), DisableInstanceDiscovery: true}
	cred, err := azidentity.NewClientSecretCredential(DefaultTenant, appID, secretV, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(testCtx(t), acrScope)
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	claims, err := s.verify(tok.Token, kindEntra)
	if err != nil {
		t.Fatalf("the token is not the fake's: %v", err)
	}
	if claims["aud"] != ACRAudience || claims["tid"] != DefaultTenant || claims["appid"] != appID {
		t.Errorf("claims %v, want aud %s tid %s appid %s", claims, ACRAudience, DefaultTenant, appID)
	}
	if c := lastCall(t, s); c.Endpoint != EndpointToken || c.Assertion != "secret" || c.ClientID != appID {
		t.Errorf("last call %+v", c)
	}
	if n := s.CallCount(EndpointDiscovery); n != 0 {
		t.Errorf("%d instance discovery calls with discovery disabled", n)
	}

	bad, _ := azidentity.NewClientSecretCredential(DefaultTenant, appID, "wrong", opts)
	_, err = bad.GetToken(testCtx(t), acrScope)
	wantErrorContains(t, err, "AADSTS7000215")
	if c := lastCall(t, s); c.Status != 401 || c.Error != "AADSTS7000215" {
		t.Errorf("wrong secret answered %d %s, want 401 AADSTS7000215", c.Status, c.Error)
	}
}

// TestScopeAndTenant: only the ACR scope, and only known tenants and apps.
func TestScopeAndTenant(t *testing.T) {
	s := Start(t)
	s.AddClientSecret(DefaultTenant, appID, secretV)
	opts := &azidentity.ClientSecretCredentialOptions{ClientOptions: clientOptions(s), DisableInstanceDiscovery: true}
	cred, _ := azidentity.NewClientSecretCredential(DefaultTenant, appID, secretV, opts)
	_, err := cred.GetToken(testCtx(t), policyScopes(ARMScope))
	wantErrorContains(t, err, "AADSTS70011")

	other, _ := azidentity.NewClientSecretCredential("00000000-0000-0000-0000-0000000000aa", appID, secretV, opts)
	_, err = other.GetToken(testCtx(t), acrScope)
	wantErrorContains(t, err, "AADSTS90002")

	stranger, _ := azidentity.NewClientSecretCredential(DefaultTenant, "99999999-9999-9999-9999-999999999999", secretV, opts)
	_, err = stranger.GetToken(testCtx(t), acrScope)
	wantErrorContains(t, err, "AADSTS700016")
}

// TestInstanceDiscovery: without DisableInstanceDiscovery MSAL asks
// login.microsoftonline.com, which Transport routes to the fake.
func TestInstanceDiscovery(t *testing.T) {
	s := Start(t)
	s.AddClientSecret(DefaultTenant, appID, secretV)
	opts := &azidentity.ClientSecretCredentialOptions{ClientOptions: clientOptions(s)}
	cred, _ := azidentity.NewClientSecretCredential(DefaultTenant, appID, secretV, opts)
	if _, err := cred.GetToken(testCtx(t), acrScope); err != nil {
		t.Fatal(err)
	}
	if s.CallCount(EndpointDiscovery) == 0 {
		t.Error("no instance discovery call with discovery on")
	}
}

// TestClientCertificate: the real ClientCertificateCredential's PS256
// assertion is verified against the registered certificate, and one
// signed by another certificate, or out of time range, is refused.
func TestClientCertificate(t *testing.T) {
	s := Start(t)
	cert, pemBytes, err := NewCertificate("ocicred-test")
	if err != nil {
		t.Fatal(err)
	}
	s.AddClientCertificate(DefaultTenant, appID, cert)
	certs, key, err := azidentity.ParseCertificates(pemBytes, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := &azidentity.ClientCertificateCredentialOptions{ClientOptions: clientOptions(s), DisableInstanceDiscovery: true}
	cred, err := azidentity.NewClientCertificateCredential(DefaultTenant, appID, certs, key, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cred.GetToken(testCtx(t), acrScope); err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	if c := lastCall(t, s); c.Assertion != "certificate" || c.Status != 200 {
		t.Errorf("last call %+v, want a certificate assertion answered 200", c)
	}

	_, otherPEM, _ := NewCertificate("someone-else")
	oc, ok, _ := azidentity.ParseCertificates(otherPEM, nil)
	other, _ := azidentity.NewClientCertificateCredential(DefaultTenant, appID, oc, ok, opts)
	_, err = other.GetToken(testCtx(t), acrScope)
	wantErrorContains(t, err, "AADSTS700027")

	// The server's clock an hour ahead: the assertion (nbf now, exp now+10m)
	// has expired by its clock.
	s.SetClockSkew(time.Hour)
	fresh, _ := azidentity.NewClientCertificateCredential(DefaultTenant, appID, certs, key, opts)
	_, err = fresh.GetToken(testCtx(t), acrScope)
	wantErrorContains(t, err, "AADSTS700024")
	s.SetClockSkew(2 * time.Minute) // within the leeway
	fresh, _ = azidentity.NewClientCertificateCredential(DefaultTenant, appID, certs, key, opts)
	if _, err := fresh.GetToken(testCtx(t), acrScope); err != nil {
		t.Errorf("2 minutes of skew: %v", err)
	}
}

// TestFederated: ClientAssertionCredential, as workload identity uses it,
// is accepted only with the registered token.
func TestFederated(t *testing.T) {
	s := Start(t)
	s.AddFederated(DefaultTenant, appID, "projected.sa.token")
	opts := &azidentity.ClientAssertionCredentialOptions{ClientOptions: clientOptions(s), DisableInstanceDiscovery: true}
	for _, tc := range []struct {
		token string
		ok    bool
	}{{"projected.sa.token", true}, {"another.sa.token", false}} {
		cred, _ := azidentity.NewClientAssertionCredential(DefaultTenant, appID, func(ctx context.Context) (string, error) { return tc.token, nil }, opts)
		_, err := cred.GetToken(testCtx(t), acrScope)
		if tc.ok && err != nil {
			t.Errorf("registered token: %v", err)
		}
		if !tc.ok {
			wantErrorContains(t, err, "AADSTS70021")
		}
	}
}

// TestManagedIdentity: the real ManagedIdentityCredential reaches IMDS
// through Transport: system-assigned, user-assigned by client id and
// resource id, and 400 for an identity not assigned.
func TestManagedIdentity(t *testing.T) {
	s := Start(t)
	const resID = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/puller"
	s.AddManagedIdentity(ManagedIdentity{System: true, ClientID: "33333333-3333-3333-3333-333333333333"})
	s.AddManagedIdentity(ManagedIdentity{ClientID: miClient, ResourceID: resID})
	for _, tc := range []struct {
		name    string
		id      azidentity.ManagedIDKind
		appid   string
		wantErr string
	}{
		{"system", nil, "33333333-3333-3333-3333-333333333333", ""},
		{"client id", azidentity.ClientID(miClient), miClient, ""},
		{"resource id", azidentity.ResourceID(resID), miClient, ""},
		{"unassigned", azidentity.ClientID("44444444-4444-4444-4444-444444444444"), "", "isn't assigned"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ClientOptions: clientOptions(s), ID: tc.id})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := cred.GetToken(testCtx(t), acrScope)
			if tc.wantErr != "" {
				wantErrorContains(t, err, tc.wantErr)
				if c := lastCall(t, s); c.Status != 400 {
					t.Errorf("unassigned identity answered %d, want 400", c.Status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			claims, err := s.verify(tok.Token, kindEntra)
			if err != nil || claims["appid"] != tc.appid || claims["aud"] != ACRAudience {
				t.Errorf("claims %v, %v; want appid %s", claims, err, tc.appid)
			}
			if d := time.Until(tok.ExpiresOn); d < 23*time.Hour {
				t.Errorf("token lasts %s, want about 24h (string-typed expires_in read)", d)
			}
		})
	}
}

// TestIMDSNeedsMetadataHeader: IMDS refuses a request without Metadata: true.
func TestIMDSNeedsMetadataHeader(t *testing.T) {
	s := Start(t)
	s.AddManagedIdentity(ManagedIdentity{System: true, ClientID: miClient})
	resp, err := s.Client().Get("http://" + IMDSHost + "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=" + ACRAudience)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("no Metadata header: %d, want 400", resp.StatusCode)
	}
}

// TestAppService: with AppServiceEnv, ManagedIdentityCredential uses the
// App Service endpoint, which checks IDENTITY_HEADER.
func TestAppService(t *testing.T) {
	s := Start(t)
	// MSAL caches managed-identity tokens process-wide: fresh ids make
	// sure these requests reach the endpoint.
	id, other := uniqueID(), uniqueID()
	s.AddManagedIdentity(ManagedIdentity{ClientID: id})
	s.AddManagedIdentity(ManagedIdentity{ClientID: other})
	for _, kv := range s.AppServiceEnv() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ClientOptions: clientOptions(s), ID: azidentity.ClientID(id)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cred.GetToken(testCtx(t), acrScope); err != nil {
		t.Fatal(err)
	}
	if n := s.CallCount(EndpointAppService); n != 1 {
		t.Errorf("%d App Service calls, want 1", n)
	}
	t.Setenv("IDENTITY_HEADER", "wrong")
	cred, _ = azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ClientOptions: clientOptions(s), ID: azidentity.ClientID(other)})
	if _, err := cred.GetToken(testCtx(t), acrScope); err == nil {
		t.Error("a wrong IDENTITY_HEADER was accepted")
	}
}

// TestTokenEndpointFaults: each fault is answered in Entra's shape, and a
// Hang lasts until the client gives up.
func TestTokenEndpointFaults(t *testing.T) {
	s := Start(t)
	s.AddClientSecret(DefaultTenant, appID, secretV)
	opts := &azidentity.ClientSecretCredentialOptions{ClientOptions: clientOptions(s), DisableInstanceDiscovery: true}
	for _, tc := range []struct {
		fault  Fault
		status int
		want   string
	}{
		{ServerError, 500, "server_error"},
		{ServiceUnavailable, 503, "temporarily_unavailable"},
		{Throttled, 429, "AADSTS50196"},
		{InvalidGrant, 400, "AADSTS70000"},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			s.Inject(tc.fault, EndpointToken, 1)
			cred, _ := azidentity.NewClientSecretCredential(DefaultTenant, appID, secretV, opts)
			_, err := cred.GetToken(testCtx(t), acrScope)
			wantErrorContains(t, err, tc.want)
			if c := lastCall(t, s); c.Status != tc.status || c.Fault != tc.fault {
				t.Errorf("call %+v, want status %d", c, tc.status)
			}
			if _, err := cred.GetToken(testCtx(t), acrScope); err != nil {
				t.Errorf("after the one fault: %v", err)
			}
		})
	}
	t.Run("Hang", func(t *testing.T) {
		s.Inject(Hang, EndpointToken, 1)
		cred, _ := azidentity.NewClientSecretCredential(DefaultTenant, appID, secretV, opts)
		ctx, cancel := context.WithCancel(testCtx(t))
		done := make(chan error, 1)
		go func() { _, err := cred.GetToken(ctx, acrScope); done <- err }()
		waitHanging(t, s, 1)
		cancel()
		if err := <-done; err == nil {
			t.Error("a hung call returned a token")
		}
		waitHanging(t, s, 0)
	})
	t.Run("Expired", func(t *testing.T) {
		s.Inject(Expired, EndpointToken, 1)
		cred, _ := azidentity.NewClientSecretCredential(DefaultTenant, appID, secretV, opts)
		tok, err := cred.GetToken(testCtx(t), acrScope)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.verify(tok.Token, kindEntra); !errors.Is(err, errExpired) {
			t.Errorf("Expired fault's token verifies: %v", err)
		}
	})
}

// waitHanging waits until n calls hang.
func waitHanging(t *testing.T, s *Server, n int) {
	t.Helper()
	if err := s.WaitHanging(testCtx(t), n); err != nil {
		t.Fatal(err)
	}
}

// policyScopes asks for scopes.
func policyScopes(scopes ...string) policy.TokenRequestOptions {
	return policy.TokenRequestOptions{Scopes: scopes}
}
