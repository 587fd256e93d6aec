package gartoken

import (
	"slices"
	"testing"
	"time"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/test/gcpfake"
)

// TestServiceAccountKey: one JWT-bearer call to the key's token_uri gives
// a token of the key's account, for the configured scopes, that ends
// expires_in after its receipt by the Fetcher's clock.
func TestServiceAccountKey(t *testing.T) {
	for _, tt := range []struct {
		scopes string
		want   []string
	}{
		{"", []string{config.DefaultGoogleScope}},
		{", scopes: [https://www.googleapis.com/auth/devstorage.read_only]", []string{"https://www.googleapis.com/auth/devstorage.read_only"}},
	} {
		t.Run(tt.want[0], func(t *testing.T) {
			e := start(t)
			k := e.srv.NewKey(testSA)
			reg := registry(t, "{type: serviceAccountKey, keyFile: "+writeFile(t, "key.json", k.JSON())+tt.scopes+"}")
			e.clock.Set(-30 * time.Second) // the Fetcher's clock, not the wall clock, counts
			before := e.clock.Now()
			tok, err := e.f.Fetch(testCtx(t), reg)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if who, ok := e.srv.TokenOwner(tok.Password.Reveal()); !ok || who != testSA {
				t.Errorf("owner %q (%v), want %s", who, ok, testSA)
			}
			if got := e.srv.TokenScopes(tok.Password.Reveal()); !slices.Equal(got, tt.want) {
				t.Errorf("scopes %q, want %q", got, tt.want)
			}
			if d := tok.ExpiresAt.Sub(before); d < gcpfake.DefaultTokenLifetime-5*time.Second || d > gcpfake.DefaultTokenLifetime+time.Second {
				t.Errorf("ExpiresAt %s after the fetch began, want %s", d, gcpfake.DefaultTokenLifetime)
			}
			if n := e.seen.count(); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

// TestKeyEnv: the key may come from an environment variable.
func TestKeyEnv(t *testing.T) {
	e := start(t)
	k := e.srv.NewKey(testSA)
	t.Setenv("OCICRED_TEST_GAR_KEY", string(k.JSON()))
	tok, err := e.f.Fetch(testCtx(t), registry(t, "{type: serviceAccountKey, keyEnv: OCICRED_TEST_GAR_KEY}"))
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if who, _ := e.srv.TokenOwner(tok.Password.Reveal()); who != testSA {
		t.Errorf("owner %q", who)
	}
}

// TestImpersonate: the base identity's token asks generateAccessToken for
// the service account's, with the configured lifetime and scopes; the
// token ends at expireTime. The base token is kept for the next fetch,
// until Forget drops it.
func TestImpersonate(t *testing.T) {
	e := start(t)
	k := e.srv.NewKey(testSA)
	e.srv.AllowImpersonation(testSA, testTarget)
	reg := registry(t, "{type: impersonate, serviceAccount: "+testTarget+", lifetime: 30m, base: {type: serviceAccountKey, keyFile: "+
		writeFile(t, "key.json", k.JSON())+"}}")
	tok, err := e.f.Fetch(testCtx(t), reg)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if who, ok := e.srv.TokenOwner(tok.Password.Reveal()); !ok || who != testTarget {
		t.Errorf("owner %q (%v), want %s", who, ok, testTarget)
	}
	iam := e.srv.CallsOf(gcpfake.EndpointIAM)
	if len(iam) != 1 || iam[0].Principal != testSA || iam[0].Lifetime != "1800s" || !slices.Equal(iam[0].Scopes, []string{config.DefaultGoogleScope}) {
		t.Errorf("IAM calls %+v", iam)
	}
	if d := tok.ExpiresAt.Sub(e.clock.Now()); d > 30*time.Minute || d < 29*time.Minute {
		t.Errorf("ExpiresAt in %s, want 30m", d)
	}
	if n := e.seen.count(); n != 2 {
		t.Errorf("%d requests for the first fetch, want 2 (base token, generateAccessToken)", n)
	}
	if _, err := e.f.Fetch(testCtx(t), reg); err != nil {
		t.Fatal(err)
	}
	if n := e.seen.count(); n != 3 {
		t.Errorf("%d requests after the second fetch, want 3 (the base token kept)", n)
	}
	e.f.Forget(map[Key]bool{KeyOf(reg): true})
	if _, err := e.f.Fetch(testCtx(t), reg); err != nil || e.seen.count() != 4 {
		t.Errorf("after Forget keeping it: %v, %d requests, want 4", err, e.seen.count())
	}
	e.f.Forget(nil)
	if _, err := e.f.Fetch(testCtx(t), reg); err != nil || e.seen.count() != 6 {
		t.Errorf("after Forget: %v, %d requests, want 6 (the base token asked again)", err, e.seen.count())
	}
	// A base token within five minutes of its end is not used.
	e.clock.Set(gcpfake.DefaultTokenLifetime - 4*time.Minute)
	if _, err := e.f.Fetch(testCtx(t), reg); err != nil || e.seen.count() != 8 {
		t.Errorf("near the base token's end: %v, %d requests, want 8", err, e.seen.count())
	}
}

// TestImpersonateDefaultBase: without a base, the default chain (here the
// metadata server) impersonates.
func TestImpersonateDefaultBase(t *testing.T) {
	e := start(t, gcpfake.WithMetadataAccount(testVM))
	e.srv.AllowImpersonation(testVM, testTarget)
	tok, err := e.f.Fetch(testCtx(t), registry(t, "{type: impersonate, serviceAccount: "+testTarget+"}"))
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if who, _ := e.srv.TokenOwner(tok.Password.Reveal()); who != testTarget {
		t.Errorf("owner %q", who)
	}
	if iam := e.srv.CallsOf(gcpfake.EndpointIAM); len(iam) != 1 || iam[0].Principal != testVM || iam[0].Lifetime != "3600s" {
		t.Errorf("IAM calls %+v", iam)
	}
}

// TestWorkloadIdentity: an external_account file exchanges its subject
// token at STS; with an impersonation URL the STS token then asks for the
// service account's.
func TestWorkloadIdentity(t *testing.T) {
	for _, impersonate := range []bool{false, true} {
		t.Run(map[bool]string{false: "federated", true: "impersonated"}[impersonate], func(t *testing.T) {
			e := start(t)
			subject := "subject-token-must-not-leak"
			e.srv.RegisterSubject(gcpfake.Subject{Token: subject, Audience: testAud, SubjectTokenType: jwtType, Principal: testFed})
			target, want, requests := "", testFed, 1
			if impersonate {
				target, want, requests = testTarget, testTarget, 2
				e.srv.AllowImpersonation(testFed, testTarget)
			}
			reg := registry(t, "{type: workloadIdentity, configFile: "+e.externalAccount(t, subject, target)+"}")
			tok, err := e.f.Fetch(testCtx(t), reg)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if who, ok := e.srv.TokenOwner(tok.Password.Reveal()); !ok || who != want {
				t.Errorf("owner %q (%v), want %s", who, ok, want)
			}
			if n := e.seen.count(); n != requests {
				t.Errorf("%d requests, want %d", n, requests)
			}
			if d := tok.ExpiresAt.Sub(e.clock.Now()); d > time.Hour || d < 55*time.Minute {
				t.Errorf("ExpiresAt in %s", d)
			}
		})
	}
}

// TestWorkloadIdentityURLSource: a url credential source is read with its
// headers, through the Fetcher's transport.
func TestWorkloadIdentityURLSource(t *testing.T) {
	e := start(t)
	e.srv.RegisterSubject(gcpfake.Subject{Token: "from-url", Audience: testAud, SubjectTokenType: jwtType, Principal: testFed})
	src := newSubjectServer(t, "from-url", "X-Test", "yes")
	file := writeFile(t, "wif.json", []byte(`{"type": "external_account", "audience": "`+testAud+`",
  "subject_token_type": "`+jwtType+`", "token_url": "`+e.srv.STSURL()+`",
  "credential_source": {"url": "`+src+`", "headers": {"X-Test": "yes"}, "format": {"type": "text"}}}`))
	tok, err := e.f.Fetch(testCtx(t), registry(t, "{type: workloadIdentity, configFile: "+file+"}"))
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if who, _ := e.srv.TokenOwner(tok.Password.Reveal()); who != testFed {
		t.Errorf("owner %q", who)
	}
	if n := e.seen.count(); n != 2 {
		t.Errorf("%d requests, want 2 (the subject token, STS)", n)
	}
}

// TestDefaultChain: GOOGLE_APPLICATION_CREDENTIALS comes first, then the
// well-known gcloud file, then the metadata server.
func TestDefaultChain(t *testing.T) {
	e := start(t, gcpfake.WithMetadataAccount(testVM))
	reg := registry(t, "")
	owner := func() string {
		t.Helper()
		tok, err := e.f.Fetch(testCtx(t), reg)
		if err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		who, _ := e.srv.TokenOwner(tok.Password.Reveal())
		return who
	}
	if who := owner(); who != testVM {
		t.Errorf("metadata server: owner %q, want %s", who, testVM)
	}
	if c := e.srv.CallsOf(gcpfake.EndpointMetadata); len(c) != 1 || c[0].MetadataFlavor != "Google" ||
		!slices.Equal(c[0].Scopes, []string{config.DefaultGoogleScope}) {
		t.Errorf("metadata calls %+v", c)
	}
	wk := e.srv.NewKey("well-known@ocicred-test.iam.gserviceaccount.com")
	dir := t.TempDir()
	t.Setenv("CLOUDSDK_CONFIG", dir)
	writeAt(t, dir+"/application_default_credentials.json", wk.JSON())
	if who := owner(); who != wk.Email {
		t.Errorf("well-known file: owner %q, want %s", who, wk.Email)
	}
	adc := e.srv.NewKey("adc@ocicred-test.iam.gserviceaccount.com")
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", writeFile(t, "adc.json", adc.JSON()))
	if who := owner(); who != adc.Email {
		t.Errorf("GOOGLE_APPLICATION_CREDENTIALS: owner %q, want %s", who, adc.Email)
	}
}

// TestDefaultChainExternalAccount: GOOGLE_APPLICATION_CREDENTIALS may name
// an external_account file too.
func TestDefaultChainExternalAccount(t *testing.T) {
	e := start(t)
	e.srv.RegisterSubject(gcpfake.Subject{Token: "s", Audience: testAud, SubjectTokenType: jwtType, Principal: testFed})
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", e.externalAccount(t, "s", ""))
	tok, err := e.f.Fetch(testCtx(t), registry(t, "{type: default}"))
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if who, _ := e.srv.TokenOwner(tok.Password.Reveal()); who != testFed {
		t.Errorf("owner %q", who)
	}
}

// TestSkew: the issuer's clock, read from its answer's Date header, is
// reported as Token.Skew, and an impersonation token's expireTime (by
// Google's clock) is moved to the node's; less than minSkew is none.
func TestSkew(t *testing.T) {
	for _, tt := range []struct {
		name string
		off  time.Duration // Google's clock minus the node's
		want time.Duration
	}{
		{"none", 0, 0},
		{"a second", time.Second, 0},
		{"ahead", 20 * time.Minute, 20 * time.Minute},
		{"behind", -50 * time.Second, -50 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t)
			k := e.srv.NewKey(testSA)
			e.srv.AllowImpersonation(testSA, testTarget)
			node := &clock{}
			f := newFetcher(e.srv, node, e.seen)
			e.clock.Set(tt.off)
			for _, creds := range []string{
				"{type: serviceAccountKey, keyFile: " + writeFile(t, "k.json", k.JSON()) + "}",
				"{type: impersonate, serviceAccount: " + testTarget + ", base: {type: serviceAccountKey, keyFile: " + writeFile(t, "k.json", k.JSON()) + "}}",
			} {
				tok, err := f.Fetch(testCtx(t), registry(t, creds))
				if err != nil {
					t.Fatalf("Fetch: %v", err)
				}
				if d := tok.Skew - tt.want; d.Abs() > 2*time.Second {
					t.Errorf("%s: Skew %s, want %s", creds[:20], tok.Skew, tt.want)
				}
				if d := tok.ExpiresAt.Sub(node.Now()); d > time.Hour+2*time.Second || d < time.Hour-5*time.Second {
					t.Errorf("%s: ExpiresAt in %s by the node's clock, want an hour", creds[:20], d)
				}
			}
		})
	}
}
