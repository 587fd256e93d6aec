package azfake

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/go-containerregistry/pkg/registry"
)

const (
	appID    = "11111111-1111-1111-1111-111111111111"
	secretV  = "s3cret-value-never-printed"
	miClient = "22222222-2222-2222-2222-222222222222"
)

// testCtx is a context that ends with the test, within a minute.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// clientOptions are azidentity's options for s: its authority and
// transport, no retries (faults are answered at once), no discovery.
func clientOptions(s *Server) azcore.ClientOptions {
	return azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: s.AuthorityHost()},
		Transport: s.Client(),
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}
}

// acrScope is what a client asks Entra ID for.
var acrScope = policy.TokenRequestOptions{Scopes: []string{ACRScope}}

// startRegistry starts an upstream registry and an ACR front for it.
func startRegistry(t *testing.T, s *Server) *Registry {
	t.Helper()
	up := httptest.NewServer(registry.New(registry.Logger(discardLog())))
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL)
	return s.NewRegistry(u)
}

// exchange posts an exchange to r and returns the status and decoded body.
func exchange(t *testing.T, r *Registry, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(r.URL+"/oauth2/exchange", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body := map[string]any{}
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &body)
	return resp.StatusCode, body
}

// exchangeForm is the exchange form for an Entra token.
func exchangeForm(r *Registry, tenant, tok string) url.Values {
	return url.Values{"grant_type": {"access_token"}, "service": {r.Host}, "tenant": {tenant}, "access_token": {tok}}
}

// lastCall returns the last call recorded.
func lastCall(t *testing.T, s *Server) Call {
	t.Helper()
	calls := s.Calls()
	if len(calls) == 0 {
		t.Fatal("no call recorded")
	}
	return calls[len(calls)-1]
}

// wantErrorContains checks err mentions each of want.
func wantErrorContains(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one with %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}

// discardLog is a standard logger that drops everything.
func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }

// uniqueID is a fresh GUID-shaped client id.
func uniqueID() string {
	r := randomString(32)
	return r[:8] + "-" + r[8:12] + "-" + r[12:16] + "-" + r[16:20] + "-" + r[20:]
}
