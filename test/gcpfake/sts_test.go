package gcpfake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2/google"
)

// TestSTSWithLibrary: an external_account file with a file source gets a
// federated token from STS, and with an impersonation URL a token of the
// service account, through the real library.
func TestSTSWithLibrary(t *testing.T) {
	for _, impersonate := range []bool{false, true} {
		t.Run(map[bool]string{false: "federated", true: "impersonated"}[impersonate], func(t *testing.T) {
			srv := Start(t)
			subject := "subject-" + randomString(16)
			srv.RegisterSubject(Subject{Token: subject, Audience: testAud, SubjectTokenType: jwtType, Principal: testFed})
			target, want := "", testFed
			if impersonate {
				target, want = testTarget, testTarget
				srv.AllowImpersonation(testFed, testTarget)
			}
			file := externalAccount(srv, writeFile(t, "token", []byte(subject)), target)
			tok, err := libToken(t, file, google.ExternalAccount, CloudPlatformScope)
			if err != nil {
				t.Fatalf("Token: %v", err)
			}
			if who, ok := srv.TokenOwner(tok.AccessToken); !ok || who != want {
				t.Errorf("owner %q (%v), want %s", who, ok, want)
			}
			sts := srv.CallsOf(EndpointSTS)
			if len(sts) != 1 || sts[0].Encoding != "form" || sts[0].Principal != testFed {
				t.Errorf("STS calls %+v", sts)
			}
			if iam := srv.CallsOf(EndpointIAM); impersonate != (len(iam) == 1) || (impersonate && iam[0].Target != testTarget) {
				t.Errorf("IAM calls %+v", iam)
			}
		})
	}
}

// TestSTSRefusals: STS refuses a wrong audience, token type or subject
// token, and an impersonation the principal may not do.
func TestSTSRefusals(t *testing.T) {
	tests := []struct {
		name            string
		aud, typ, token string
		target          string
		code            string // the error STS or IAM answers
	}{
		{"wrong audience", testAud + "x", jwtType, "good", "", "invalid_target"},
		{"wrong token type", testAud, "urn:ietf:params:oauth:token-type:id_token", "good", "", "invalid_request"},
		{"unknown subject", testAud, jwtType, "bad", "", "invalid_grant"},
		{"no impersonation grant", testAud, jwtType, "good", "other@ocicred-test.iam.gserviceaccount.com", "PERMISSION_DENIED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := Start(t)
			srv.RegisterSubject(Subject{Token: "good", Audience: testAud, SubjectTokenType: jwtType, Principal: testFed})
			srv.AllowImpersonation(testFed, testTarget)
			file := []byte(`{"type": "external_account", "audience": "` + tt.aud + `", "subject_token_type": "` + tt.typ + `",
  "token_url": "` + srv.STSURL() + `", "credential_source": {"file": "` + writeFile(t, "t", []byte(tt.token)) + `"}` +
				map[bool]string{true: `, "service_account_impersonation_url": "` + srv.ImpersonationURL(tt.target) + `"`}[tt.target != ""] + `}`)
			if _, err := libToken(t, file, google.ExternalAccount, CloudPlatformScope); err == nil {
				t.Fatal("Token succeeded")
			}
			calls := srv.Calls()
			if last := calls[len(calls)-1]; last.Error != tt.code {
				t.Errorf("last call %+v, want error %s", last, tt.code)
			}
		})
	}
}

// TestSTSJSONBody: STS takes the same fields as a JSON body, as GKE's
// kubelet plugin sends them, and refuses another grant type.
func TestSTSJSONBody(t *testing.T) {
	srv := Start(t)
	srv.RegisterSubject(Subject{Token: "ksa-token", Audience: testAud, SubjectTokenType: jwtType, Principal: testFed})
	post := func(grant string) (int, map[string]any) {
		body, _ := json.Marshal(map[string]string{"grant_type": grant, "audience": testAud, "scope": CloudPlatformScope,
			"requested_token_type": accessTokenType, "subject_token": "ksa-token", "subject_token_type": jwtType})
		resp, err := http.Post(srv.STSURL(), "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&a)
		return resp.StatusCode, a
	}
	status, a := post(tokenExchange)
	if status != 200 || a["issued_token_type"] != accessTokenType || a["token_type"] != "Bearer" || a["expires_in"] != 3599.0 {
		t.Fatalf("%d %v", status, a)
	}
	if who, ok := srv.TokenOwner(a["access_token"].(string)); !ok || who != testFed {
		t.Errorf("owner %q", who)
	}
	if c := srv.CallsOf(EndpointSTS); c[0].Encoding != "json" {
		t.Errorf("encoding %q", c[0].Encoding)
	}
	if status, _ := post("client_credentials"); status != 400 {
		t.Errorf("another grant: %d", status)
	}
}

// TestIAMDirect: generateAccessToken checks the caller's token, its scope,
// the grant and the lifetime, and answers expireTime from its clock.
func TestIAMDirect(t *testing.T) {
	c := &clock{}
	srv := Start(t, WithNow(c.Now))
	k := srv.NewKey(testSA)
	srv.AllowImpersonation(testSA, testTarget)
	tok, err := libToken(t, k.JSON(), google.ServiceAccount, CloudPlatformScope)
	if err != nil {
		t.Fatal(err)
	}
	narrow, err := libToken(t, k.JSON(), google.ServiceAccount, "https://www.googleapis.com/auth/devstorage.read_only")
	if err != nil {
		t.Fatal(err)
	}
	call := func(target, bearer, lifetime string) (int, generateAnswer) {
		body, _ := json.Marshal(generateRequest{Scope: []string{CloudPlatformScope}, Lifetime: lifetime})
		req, _ := http.NewRequest(http.MethodPost, srv.ImpersonationURL(url.PathEscape(target)), bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+bearer)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a generateAnswer
		_ = json.NewDecoder(resp.Body).Decode(&a)
		return resp.StatusCode, a
	}
	status, a := call(testTarget, tok.AccessToken, "1800s")
	exp, _ := time.Parse(time.RFC3339, a.ExpireTime)
	if status != 200 || exp.Sub(c.Now()) > 30*time.Minute || exp.Sub(c.Now()) < 29*time.Minute {
		t.Fatalf("%d %+v", status, a)
	}
	if who, _ := srv.TokenOwner(a.AccessToken); who != testTarget {
		t.Errorf("owner %q", who)
	}
	for _, tt := range []struct {
		target, bearer, lifetime string
		want                     int
	}{
		{testTarget, "ya29.unknown", "3600s", 401},
		{testTarget, narrow.AccessToken, "3600s", 403},
		{"other@ocicred-test.iam.gserviceaccount.com", tok.AccessToken, "3600s", 403},
		{testTarget, tok.AccessToken, "7200s", 400},
		{testTarget, tok.AccessToken, "1h", 400},
	} {
		if status, _ := call(tt.target, tt.bearer, tt.lifetime); status != tt.want {
			t.Errorf("%s with %.12s… for %s: %d, want %d", tt.target, tt.bearer, tt.lifetime, status, tt.want)
		}
	}
	c.Set(2 * time.Hour) // every token has expired
	if status, _ := call(testTarget, tok.AccessToken, "3600s"); status != 401 {
		t.Errorf("expired caller: %d, want 401", status)
	}
	if !strings.HasSuffix(srv.ImpersonationURL(testTarget), ":generateAccessToken") {
		t.Error(srv.ImpersonationURL(testTarget))
	}
}
