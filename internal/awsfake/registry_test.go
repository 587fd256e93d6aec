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
	"github.com/google/go-containerregistry/pkg/registry"
)

// startFront runs an in-memory registry behind a registry front of srv and
// returns the front's URL and a count of requests that reached the registry.
func startFront(t *testing.T, srv *Server) (string, *atomic.Int64) {
	t.Helper()
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	var reached atomic.Int64
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		if r.Header.Get("Authorization") != "" {
			t.Errorf("the front forwarded an Authorization header to %s", r.URL.Path)
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(upstream.Close)
	u, err := url.Parse(upstream.URL)
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(NewRegistryFront(srv, u))
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
	front, reached := startFront(t, srv)
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
	front, reached := startFront(t, srv)
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
	front, _ := startFront(t, srv)
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
