package gartoken

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/test/gcpfake"
)

// TestFailures: each failure comes back as a *Failure of the right kind
// and code, one line that ends with what to do, and without any secret.
func TestFailures(t *testing.T) {
	tests := []struct {
		name string
		// setup prepares the fake and returns the registry to fetch.
		setup func(t *testing.T, e *env) *config.Registry
		kind  Kind
		code  string
		msg   string // the message contains this
	}{
		{"deleted key", func(t *testing.T, e *env) *config.Registry {
			reg, k := e.keyRegistry(t, testSA)
			e.srv.DeleteKey(k)
			return reg
		}, KindRejected, "invalid_grant", "account not found"},
		{"node behind", func(t *testing.T, e *env) *config.Registry {
			reg, _ := e.keyRegistry(t, testSA)
			e.f = newFetcher(e.srv, &clock{}, e.seen) // the node's clock is the wall clock
			e.clock.Set(2 * time.Hour)
			return reg
		}, KindClockSkew, "invalid_grant", "(by its Date header, Google's clock is 2h0m0s ahead of this node's)"},
		{"node ahead", func(t *testing.T, e *env) *config.Registry {
			reg, _ := e.keyRegistry(t, testSA)
			e.f = newFetcher(e.srv, &clock{}, e.seen)
			e.clock.Set(-5 * time.Minute)
			return reg
		}, KindClockSkew, "invalid_grant", "Google's clock is 5m0s behind this node's"},
		{"skew unmeasured", func(t *testing.T, e *env) *config.Registry {
			reg, _ := e.keyRegistry(t, testSA)
			e.srv.Inject(gcpfake.InvalidGrant, gcpfake.EndpointToken, 1)
			return reg
		}, KindClockSkew, "invalid_grant", "Check your iat and exp values in the JWT claim; clock skew: "},
		{"unknown file type in GOOGLE_APPLICATION_CREDENTIALS", func(t *testing.T, e *env) *config.Registry {
			t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", writeFile(t, "x.json", []byte(`{"type": "gdch_service_account", "private_key": "pk-must-not-leak"}`)))
			return registry(t, "")
		}, KindBadCredentials, "", `is of type "gdch_service_account"`},
		{"GOOGLE_APPLICATION_CREDENTIALS not JSON", func(t *testing.T, e *env) *config.Registry {
			t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", writeFile(t, "x.json", []byte("-----BEGIN PRIVATE KEY----- must-not-leak")))
			return registry(t, "")
		}, KindBadCredentials, "", "is not JSON"},
		{"GOOGLE_APPLICATION_CREDENTIALS missing", func(t *testing.T, e *env) *config.Registry {
			t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/adc.json")
			return registry(t, "")
		}, KindBadCredentials, "", "GOOGLE_APPLICATION_CREDENTIALS: cannot read /nonexistent/adc.json"},
		{"no impersonation grant", func(t *testing.T, e *env) *config.Registry {
			k := e.srv.NewKey(testSA)
			return registry(t, "{type: impersonate, serviceAccount: "+testTarget+", base: {type: serviceAccountKey, keyFile: "+writeFile(t, "k", k.JSON())+"}}")
		}, KindPermissionDenied, "PERMISSION_DENIED", "iam.serviceAccounts.getAccessToken"},
		{"lifetime over the limit", func(t *testing.T, e *env) *config.Registry {
			k := e.srv.NewKey(testSA)
			e.srv.AllowImpersonation(testSA, testTarget)
			return registry(t, "{type: impersonate, serviceAccount: "+testTarget+", lifetime: 2h, base: {type: serviceAccountKey, keyFile: "+writeFile(t, "k", k.JSON())+"}}")
		}, KindBadCredentials, "INVALID_ARGUMENT", "Lifetime must be"},
		{"unknown subject", func(t *testing.T, e *env) *config.Registry {
			return registry(t, "{type: workloadIdentity, configFile: "+e.externalAccount(t, "subject-not-registered-must-not-leak", "")+"}")
		}, KindRejected, "invalid_grant", "subject token is invalid"},
		{"missing subject file", func(t *testing.T, e *env) *config.Registry {
			f := writeFile(t, "wif.json", []byte(`{"type": "external_account", "audience": "`+testAud+`", "subject_token_type": "`+jwtType+`",
  "token_url": "`+e.srv.STSURL()+`", "credential_source": {"file": "/nonexistent/ocicred/token"}}`))
			return registry(t, "{type: workloadIdentity, configFile: "+f+"}")
		}, KindBadCredentials, "", "/nonexistent/ocicred/token"},
		{"wrong file type for workloadIdentity", func(t *testing.T, e *env) *config.Registry {
			k := e.srv.NewKey(testSA)
			return registry(t, "{type: workloadIdentity, configFile: "+writeFile(t, "k", k.JSON())+"}")
		}, KindBadCredentials, "", `is of type "service_account"; it must be [external_account]`},
		{"missing configFile", func(t *testing.T, e *env) *config.Registry {
			return registry(t, "{type: workloadIdentity, configFile: /nonexistent/wif.json}")
		}, KindBadCredentials, "", "cannot read /nonexistent/wif.json"},
		{"metadata without service account", func(t *testing.T, e *env) *config.Registry {
			return registry(t, "")
		}, KindNoServiceAccount, "404", "no default service account"},
		{"token endpoint 500", func(t *testing.T, e *env) *config.Registry {
			reg, _ := e.keyRegistry(t, testSA)
			e.srv.Inject(gcpfake.ServerError, gcpfake.EndpointToken, gcpfake.Forever)
			return reg
		}, KindUnreachable, "internal_failure", "answered 500"},
		{"STS 503", func(t *testing.T, e *env) *config.Registry {
			e.srv.RegisterSubject(gcpfake.Subject{Token: "s", Audience: testAud, SubjectTokenType: jwtType, Principal: testFed})
			e.srv.Inject(gcpfake.ServiceUnavailable, gcpfake.EndpointSTS, gcpfake.Forever)
			return registry(t, "{type: workloadIdentity, configFile: "+e.externalAccount(t, "s", "")+"}")
		}, KindUnreachable, "temporarily_unavailable", "answered 503"},
		{"base key deleted", func(t *testing.T, e *env) *config.Registry {
			k := e.srv.NewKey(testSA)
			e.srv.AllowImpersonation(testSA, testTarget)
			reg := registry(t, "{type: impersonate, serviceAccount: "+testTarget+", base: {type: serviceAccountKey, keyFile: "+writeFile(t, "k", k.JSON())+"}}")
			e.srv.DeleteKey(k)
			return reg
		}, KindRejected, "invalid_grant", "impersonate " + testTarget + ": base serviceAccountKey " + testSA},
		{"IAM 500", func(t *testing.T, e *env) *config.Registry {
			k := e.srv.NewKey(testSA)
			e.srv.AllowImpersonation(testSA, testTarget)
			e.srv.Inject(gcpfake.ServerError, gcpfake.EndpointIAM, gcpfake.Forever)
			return registry(t, "{type: impersonate, serviceAccount: "+testTarget+", base: {type: serviceAccountKey, keyFile: "+writeFile(t, "k", k.JSON())+"}}")
		}, KindUnreachable, "INTERNAL", "answered 500"},
		{"expired token from the token endpoint", func(t *testing.T, e *env) *config.Registry {
			reg, _ := e.keyRegistry(t, testSA)
			e.srv.Inject(gcpfake.ExpiredToken, gcpfake.EndpointToken, gcpfake.Forever)
			return reg
		}, KindBadAnswer, "", "without expires_in"},
		{"expired token from the metadata server", func(t *testing.T, e *env) *config.Registry {
			e.srv.SetMetadataAccount(testVM)
			e.srv.Inject(gcpfake.ExpiredToken, gcpfake.EndpointMetadata, gcpfake.Forever)
			return registry(t, "")
		}, KindBadAnswer, "", "expires_in 0"},
		{"expired token from STS", func(t *testing.T, e *env) *config.Registry {
			e.srv.RegisterSubject(gcpfake.Subject{Token: "s", Audience: testAud, SubjectTokenType: jwtType, Principal: testFed})
			e.srv.Inject(gcpfake.ExpiredToken, gcpfake.EndpointSTS, gcpfake.Forever)
			return registry(t, "{type: workloadIdentity, configFile: "+e.externalAccount(t, "s", "")+"}")
		}, KindBadAnswer, "", "invalid expiry"},
		{"expired token from IAM", func(t *testing.T, e *env) *config.Registry {
			k := e.srv.NewKey(testSA)
			e.srv.AllowImpersonation(testSA, testTarget)
			e.srv.Inject(gcpfake.ExpiredToken, gcpfake.EndpointIAM, gcpfake.Forever)
			return registry(t, "{type: impersonate, serviceAccount: "+testTarget+", base: {type: serviceAccountKey, keyFile: "+writeFile(t, "k", k.JSON())+"}}")
		}, KindBadAnswer, "", "already expired"},
		{"invalid_grant on STS", func(t *testing.T, e *env) *config.Registry {
			e.srv.RegisterSubject(gcpfake.Subject{Token: "s", Audience: testAud, SubjectTokenType: jwtType, Principal: testFed})
			e.srv.Inject(gcpfake.InvalidGrant, gcpfake.EndpointSTS, gcpfake.Forever)
			return registry(t, "{type: workloadIdentity, configFile: "+e.externalAccount(t, "s", "")+"}")
		}, KindRejected, "invalid_grant", "STS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t)
			reg := tt.setup(t, e)
			tok, err := e.f.Fetch(testCtx(t), reg)
			if err == nil {
				t.Fatalf("Fetch succeeded: %v", tok)
			}
			var f *Failure
			if !errors.As(err, &f) {
				t.Fatalf("%T %v, want a *Failure", err, err)
			}
			if f.Kind != tt.kind || f.Code != tt.code || !strings.Contains(f.Msg, tt.msg) {
				t.Errorf("got kind %q code %q: %s\nwant kind %q code %q, containing %q", f.Kind, f.Code, f.Msg, tt.kind, tt.code, tt.msg)
			}
			if strings.Contains(f.Msg, "\n") || !strings.Contains(f.Msg, "; "+string(f.Kind)+": ") {
				t.Errorf("not one line ending with advice: %q", f.Msg)
			}
			noLeak(t, leaks(e, reg), f.Msg, fmt.Sprintf("%v %+v %#v", err, err, err), Describe(reg), string(KeyOf(reg)))
		})
	}
}

// TestKeyChecks: serviceAccountKey takes service_account keys only, and
// says what is wrong with anything else without quoting it (the config
// checks this too when it reads the key; the token source does not rely
// on that).
func TestKeyChecks(t *testing.T) {
	e := start(t)
	for _, tt := range []struct{ key, msg string }{
		{"", "is empty"},
		{"-----BEGIN PRIVATE KEY----- must-not-leak", "is not JSON"},
		{`{"type": "authorized_user", "client_secret": "must-not-leak", "refresh_token": "must-not-leak"}`, `of type "authorized_user", not a service_account key`},
		{`{"type": "service_account", "private_key": "must-not-leak"}`, "has no client_email"},
		{`{"type": "service_account", "client_email": "` + testSA + `", "private_key": "must-not-leak"}`, "no PEM RSA private_key"},
	} {
		_, err := e.f.keyToken(testCtx(t), []byte(tt.key), "/etc/k.json", nil)
		var f *Failure
		if !errors.As(err, &f) || f.Kind != KindBadCredentials || !strings.Contains(f.Msg, tt.msg) || !strings.Contains(f.Msg, "/etc/k.json") {
			t.Errorf("key %.20q: got %v, want %s with %q", tt.key, err, KindBadCredentials, tt.msg)
		}
		noLeak(t, []string{"must-not-leak"}, fmt.Sprint(err))
	}
	if n := e.seen.count(); n != 0 {
		t.Errorf("%d requests for keys that cannot work", n)
	}
}

// leaks are the secrets of a test: private keys, subject tokens and every
// token the Fetcher sent to Google.
func leaks(e *env, reg *config.Registry) []string {
	out := append([]string{"must-not-leak"}, e.seen.sentCredentials()...)
	for c := reg.Credentials; c != nil; c = c.Base {
		if k := c.ServiceAccountKey().Reveal(); k != "" {
			out = append(out, k, pemBody(k))
		}
	}
	return out
}

// pemBody is a line from the middle of a key's PEM, enough to spot it.
func pemBody(keyJSON string) string {
	i := strings.Index(keyJSON, "KEY-----\\n")
	if i < 0 {
		return ""
	}
	return keyJSON[i+10 : i+60]
}

// TestNoCredentials: on a node with nothing (no variable, no gcloud file,
// nothing at 169.254.169.254), the failure says where it looked.
func TestNoCredentials(t *testing.T) {
	isolate(t)
	dialed := ""
	rt := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialed = addr
		return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("no route to host")}
	}}
	f := NewFetcher(WithTransport(rt), WithMetadataTimeout(time.Second))
	_, err := f.Fetch(testCtx(t), registry(t, ""))
	var fl *Failure
	if !errors.As(err, &fl) || fl.Kind != KindNoCredentials {
		t.Fatalf("got %v, want %s", err, KindNoCredentials)
	}
	for _, want := range []string{"GOOGLE_APPLICATION_CREDENTIALS", "application_default_credentials.json", "169.254.169.254"} {
		if !strings.Contains(fl.Msg, want) {
			t.Errorf("%q does not name %s", fl.Msg, want)
		}
	}
	if dialed != "169.254.169.254:80" {
		t.Errorf("dialed %q, want the metadata server's address", dialed)
	}
}

// TestExplain: errors from outside are classified by type.
func TestExplain(t *testing.T) {
	for _, tt := range []struct {
		err  error
		kind Kind
	}{
		{context.DeadlineExceeded, KindUnreachable},
		{fmt.Errorf("x: %w", &net.OpError{Op: "dial", Err: errors.New("refused")}), KindUnreachable},
		{errors.New("something else"), KindOther},
		{fail(KindClockSkew, "invalid_grant", "m", nil), KindClockSkew},
	} {
		var f *Failure
		if err := Explain(tt.err); !errors.As(err, &f) || f.Kind != tt.kind {
			t.Errorf("Explain(%v) = %v, want %s", tt.err, err, tt.kind)
		}
	}
	if Explain(nil) != nil {
		t.Error("Explain(nil) is not nil")
	}
}

// TestDefaultMetadataAddress: without GCE_METADATA_HOST the metadata
// server is asked at 169.254.169.254 (here redirected to the fake by the
// transport's dialer); one that is reached but hangs is unreachable, not
// missing.
func TestDefaultMetadataAddress(t *testing.T) {
	e := start(t, gcpfake.WithMetadataAccount(testVM))
	if err := os.Unsetenv("GCE_METADATA_HOST"); err != nil { // start set it; t.Setenv restores it
		t.Fatal(err)
	}
	fakeAddr := strings.TrimPrefix(e.srv.URL, "http://")
	var dialed []string
	var mu sync.Mutex
	rt := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		dialed = append(dialed, addr)
		mu.Unlock()
		if addr != "169.254.169.254:80" {
			return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("unexpected address")}
		}
		return (&net.Dialer{}).DialContext(ctx, network, fakeAddr)
	}}
	f := newFetcher(e.srv, e.clock, rt, WithMetadataTimeout(300*time.Millisecond))
	tok, err := f.Fetch(testCtx(t), registry(t, ""))
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if who, _ := e.srv.TokenOwner(tok.Password.Reveal()); who != testVM {
		t.Errorf("owner %q", who)
	}
	e.srv.Inject(gcpfake.Hang, gcpfake.EndpointMetadata, gcpfake.Forever)
	_, err = f.Fetch(testCtx(t), registry(t, ""))
	var fl *Failure
	if !errors.As(err, &fl) || fl.Kind != KindUnreachable || !strings.Contains(fl.Msg, "169.254.169.254") {
		t.Fatalf("a hanging metadata server: %v, want %s", err, KindUnreachable)
	}
	if n := e.srv.CallCount(gcpfake.EndpointMetadata); n != 1+MetadataAttempts {
		t.Errorf("%d metadata calls, want %d", n, 1+MetadataAttempts)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(dialed) == 0 || dialed[0] != "169.254.169.254:80" {
		t.Errorf("dialled %q", dialed)
	}
}
