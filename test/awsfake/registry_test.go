package awsfake

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	"github.com/google/go-containerregistry/pkg/registry"
)

// testRegistry is the registry whose tokens start's clients get: the
// static key's account, in the clients' region.
var testRegistry = Registry{Account: DefaultAccount, Region: testRegion}

// startFront runs an in-memory registry behind srv's registry front for reg
// and returns the front's URL and a count of requests that reached the
// registry.
func startFront(t *testing.T, srv *Server, reg Registry) (string, *atomic.Int64) {
	t.Helper()
	open := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	var reached atomic.Int64
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		if r.Header.Get("Authorization") != "" {
			t.Errorf("the front forwarded an Authorization header to %s", r.URL.Path)
		}
		open.ServeHTTP(w, r)
	}))
	t.Cleanup(upstream.Close)
	u, err := url.Parse(upstream.URL)
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(NewRegistryFront(srv, reg, u))
	t.Cleanup(front.Close)
	return front.URL, &reached
}

// ecrBasic gets a token through the real ECR client and returns it as a
// Basic Authorization header value.
func ecrBasic(t *testing.T, c clients) string {
	t.Helper()
	out, err := c.ecr.GetAuthorizationToken(testCtx(t), &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatalf("GetAuthorizationToken: %v", err)
	}
	return "Basic " + aws.ToString(out.AuthorizationData[0].AuthorizationToken)
}

// do sends one request to the front with an optional Authorization header.
func do(t *testing.T, method, u, auth string, body []byte) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestRegistryFrontRejects(t *testing.T) {
	srv, _, c := start(t)
	front, reached := startFront(t, srv, testRegistry)
	valid := ecrBasic(t, c)
	_, pass := decodeToken(t, strings.TrimPrefix(valid, "Basic "))
	tests := []struct{ name, auth string }{
		{"no header", ""},
		{"wrong password", basic("AWS", "not-issued")},
		{"wrong user", basic("admin", pass)},
		{"bearer", "Bearer " + pass},
		{"not base64", "Basic %%%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := do(t, http.MethodGet, front+"/v2/", tt.auth, nil)
			checkUnauthorized(t, resp, "authentication required")
		})
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("%d rejected requests reached the registry", n)
	}
}

// checkUnauthorized checks a registry 401: Basic challenge and errors body.
func checkUnauthorized(t *testing.T, resp *http.Response, wantMessage string) {
	t.Helper()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", resp.StatusCode)
	}
	if ch := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, `Basic realm="`) {
		t.Errorf("WWW-Authenticate = %q, want a Basic realm", ch)
	}
	var body struct {
		Errors []struct{ Code, Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("errors body: %v", err)
	}
	if len(body.Errors) != 1 || body.Errors[0].Code != "UNAUTHORIZED" || body.Errors[0].Message != wantMessage {
		t.Errorf("errors body = %+v, want one UNAUTHORIZED %q", body.Errors, wantMessage)
	}
}

func TestRegistryFrontForwardsValidToken(t *testing.T) {
	srv, _, c := start(t)
	front, reached := startFront(t, srv, testRegistry)
	auth := ecrBasic(t, c)
	if resp := do(t, http.MethodGet, front+"/v2/", auth, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/ with a valid token: status %d", resp.StatusCode)
	}
	blob := []byte("layer contents " + time.Now().String())
	digest := fmt.Sprintf("sha256:%x", sha256.Sum256(blob))
	resp := do(t, http.MethodPost, front+"/v2/team/app/blobs/uploads/?digest="+digest, auth, blob)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("monolithic blob upload: status %d", resp.StatusCode)
	}
	resp = do(t, http.MethodGet, front+"/v2/team/app/blobs/"+digest, auth, nil)
	got, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(got, blob) {
		t.Errorf("blob read back through the front: status %d, err %v, equal %v", resp.StatusCode, err, bytes.Equal(got, blob))
	}
	if n := reached.Load(); n != 3 {
		t.Errorf("%d requests reached the registry, want 3", n)
	}
}

func TestRegistryFrontRejectsExpiredToken(t *testing.T) {
	srv, clock, c := start(t)
	front, _ := startFront(t, srv, testRegistry)
	auth := ecrBasic(t, c)
	clock.Advance(12*time.Hour - time.Second)
	if resp := do(t, http.MethodGet, front+"/v2/", auth, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("token one second before expiry: status %d, want 200", resp.StatusCode)
	}
	clock.Advance(time.Second)
	resp := do(t, http.MethodGet, front+"/v2/", auth, nil)
	checkUnauthorized(t, resp, "Your authorization token has expired. Reauthenticate and try again.")
	if srv.ValidAuthorization(auth) {
		t.Error("ValidAuthorization accepts an expired token")
	}
}

// TestRegistryFrontBindsTokens: a front takes only the tokens issued for
// its registry (a principal of its account, in its region, from the right
// service); any other token, however fresh, gets the 401 of a password
// never issued, and an expired token of another registry is not told that
// it expired.
func TestRegistryFrontBindsTokens(t *testing.T) {
	srv, clock, own := start(t)
	roleA, _ := assumeRoleClients(t, srv, own, testRole) // account 210987654321
	roleB, _ := assumeRoleClients(t, srv, own, "arn:aws:iam::111122223333:role/other")
	ctx := testCtx(t)
	inRegion := func(r string) func(*ecr.Options) { return func(o *ecr.Options) { o.Region = r } }
	privateToken := func(c clients, region string) string {
		t.Helper()
		out, err := c.ecr.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{}, inRegion(region))
		if err != nil {
			t.Fatalf("ECR GetAuthorizationToken in %s: %v", region, err)
		}
		return "Basic " + aws.ToString(out.AuthorizationData[0].AuthorizationToken)
	}
	publicToken := func(region string) string {
		t.Helper()
		out, err := own.ecrPublic.GetAuthorizationToken(ctx, &ecrpublic.GetAuthorizationTokenInput{},
			func(o *ecrpublic.Options) { o.Region = region })
		if err != nil {
			t.Fatalf("ECR Public GetAuthorizationToken in %s: %v", region, err)
		}
		return "Basic " + aws.ToString(out.AuthorizationData.AuthorizationToken)
	}
	tokens := map[string]string{
		"own":               privateToken(own, testRegion),
		"own, us-west-2":    privateToken(own, "us-west-2"),
		"role A":            privateToken(roleA, testRegion),
		"role B":            privateToken(roleB, testRegion),
		"public":            publicToken("us-east-1"),
		"public, eu-west-1": publicToken(testRegion),
	}
	fronts := map[string]string{}
	for name, reg := range map[string]Registry{
		"own":       testRegistry,
		"own west":  {Account: DefaultAccount, Region: "us-west-2"},
		"account A": {Account: "210987654321", Region: testRegion},
		"public":    {Public: true},
	} {
		fronts[name], _ = startFront(t, srv, reg)
	}
	tests := []struct {
		token, front string
		pass         bool
	}{
		{"own", "own", true},
		{"own, us-west-2", "own west", true},
		{"role A", "account A", true},
		{"public", "public", true},
		{"own", "own west", false},             // region X at region Y
		{"own, us-west-2", "own", false},       // and the other way
		{"own", "account A", false},            // identity A at B's registry
		{"role A", "own", false},               // and the other way
		{"role B", "account A", false},         // another role, another account
		{"own", "public", false},               // private token at ECR Public
		{"public", "own", false},               // ECR Public token at a private registry
		{"public, eu-west-1", "public", false}, // ECR Public tokens come from us-east-1
	}
	for _, tt := range tests {
		t.Run(tt.token+" at "+tt.front, func(t *testing.T) {
			resp := do(t, http.MethodGet, fronts[tt.front]+"/v2/", tokens[tt.token], nil)
			if tt.pass {
				if resp.StatusCode != http.StatusOK {
					t.Errorf("status %d, want 200", resp.StatusCode)
				}
				return
			}
			checkUnauthorized(t, resp, "authentication required")
		})
	}
	clock.Advance(DefaultTokenLifetime)
	checkUnauthorized(t, do(t, http.MethodGet, fronts["own"]+"/v2/", tokens["own"], nil),
		"Your authorization token has expired. Reauthenticate and try again.")
	checkUnauthorized(t, do(t, http.MethodGet, fronts["account A"]+"/v2/", tokens["own"], nil), "authentication required")
}

func TestNewRegistryFrontNeedsARegistry(t *testing.T) {
	srv, _, _ := start(t)
	for _, reg := range []Registry{{}, {Account: DefaultAccount}, {Account: "12", Region: testRegion}, {Region: testRegion}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewRegistryFront(%+v) did not panic", reg)
				}
			}()
			NewRegistryFront(srv, reg, &url.URL{})
		}()
	}
}
