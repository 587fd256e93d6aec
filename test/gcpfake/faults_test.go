package gcpfake

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"cloud.google.com/go/compute/metadata"
	"golang.org/x/oauth2/google"
)

// TestFaultsOnTokenEndpoint: each fault gives its wire answer, for as many
// calls as injected, then the endpoint works again.
func TestFaultsOnTokenEndpoint(t *testing.T) {
	tests := []struct {
		fault  Fault
		status int
		code   string
		life   int64 // expires_in of a successful answer
	}{
		{ServerError, 500, "internal_failure", 0},
		{ServiceUnavailable, 503, "temporarily_unavailable", 0},
		{InvalidGrant, 400, "invalid_grant", 0},
		{ExpiredToken, 200, "", 0},
		{NearExpiry, 200, "", 60},
	}
	for _, tt := range tests {
		t.Run(tt.fault.String(), func(t *testing.T) {
			srv := Start(t)
			k := srv.NewKey(testSA)
			srv.Inject(tt.fault, EndpointToken, 1)
			tok, err := libToken(t, k.JSON(), google.ServiceAccount, CloudPlatformScope)
			status, code, _ := oauthErr(err)
			if tt.status != 200 && (status != tt.status || code != tt.code) {
				t.Fatalf("got %v, want %d %s", err, tt.status, tt.code)
			}
			if tt.status == 200 {
				if err != nil {
					t.Fatal(err)
				}
				// The jwt flow treats expires_in 0 as "never expires":
				// the zero Expiry is what a client must refuse.
				if got := tok.Extra("expires_in"); got != float64(tt.life) {
					t.Errorf("expires_in %v, want %d", got, tt.life)
				}
			}
			if c := srv.CallsOf(EndpointToken); c[0].Fault != tt.fault {
				t.Errorf("recorded fault %v", c[0].Fault)
			}
			if _, err := libToken(t, k.JSON(), google.ServiceAccount, CloudPlatformScope); err != nil {
				t.Errorf("after the fault: %v", err)
			}
		})
	}
}

// TestHang: a hung call is recorded and counted until its client gives up.
func TestHang(t *testing.T) {
	for _, endpoint := range []string{EndpointToken, EndpointMetadata, EndpointSTS, EndpointIAM} {
		t.Run(endpoint, func(t *testing.T) {
			srv := Start(t, WithMetadataAccount(testSA))
			srv.Inject(Hang, endpoint, Forever)
			ctx, cancel := context.WithCancel(testCtx(t))
			path := map[string]string{EndpointToken: "/token", EndpointMetadata: "/computeMetadata/v1/project/project-id",
				EndpointSTS: "/v1/token", EndpointIAM: "/v1/projects/-/serviceAccounts/" + testTarget + ":generateAccessToken"}[endpoint]
			method := http.MethodPost
			if endpoint == EndpointMetadata {
				method = http.MethodGet
			}
			req, _ := http.NewRequestWithContext(ctx, method, srv.URL+path, nil)
			done := make(chan error, 1)
			go func() {
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					resp.Body.Close()
				}
				done <- err
			}()
			if err := srv.WaitCalls(testCtx(t), endpoint, 1); err != nil {
				t.Fatal(err)
			}
			if n := srv.Hanging(); n != 1 {
				t.Errorf("Hanging %d, want 1", n)
			}
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("client: %v, want cancelled", err)
			}
		})
	}
}

// TestMetadataFaults: the metadata library retries 5xx; 404 fails; a slow
// answer past the client's patience is abandoned; NearExpiry is answered.
func TestMetadataFaults(t *testing.T) {
	srv := Start(t, WithMetadataAccount(testSA), WithSlowDelay(time.Hour))
	srv.Setenv(t)
	mc := metadata.NewClient(&http.Client{})
	srv.Inject(ServiceUnavailable, EndpointMetadata, 2)
	if email, err := mc.EmailWithContext(testCtx(t), ""); err != nil || email != testSA {
		t.Fatalf("after two 503: %q, %v", email, err)
	}
	if n := srv.CallCount(EndpointMetadata); n != 3 {
		t.Errorf("%d calls, want 3 (two 503, then the answer)", n)
	}
	srv.Inject(NotFound, EndpointMetadata, 1)
	var nd metadata.NotDefinedError
	if _, err := mc.EmailWithContext(testCtx(t), ""); !errors.As(err, &nd) {
		t.Errorf("NotFound: %v", err)
	}
	srv.Inject(SlowHeaders, EndpointMetadata, 1)
	impatient := metadata.NewClient(&http.Client{Timeout: 100 * time.Millisecond})
	srv.Reset()
	// The library gives up on the slow answer and asks again.
	if email, err := impatient.EmailWithContext(testCtx(t), ""); err != nil || email != testSA {
		t.Errorf("after a slow answer: %q, %v", email, err)
	}
	if c := srv.CallsOf(EndpointMetadata); len(c) != 2 || c[0].Fault != SlowHeaders || c[0].Error != "client gave up" || c[1].Status != 200 {
		t.Errorf("calls %+v, want the abandoned slow one, then an answer", c)
	}
	srv.Inject(NearExpiry, EndpointMetadata, 1)
	tok, err := google.ComputeTokenSource("").Token()
	if err != nil {
		t.Fatal(err)
	}
	if left := time.Until(tok.Expiry); left > time.Minute {
		t.Errorf("token lasts %s, want at most a minute", left)
	}
}

// TestSlowHeadersAnswers: a slow answer still comes, after the delay.
func TestSlowHeadersAnswers(t *testing.T) {
	srv := Start(t, WithMetadataAccount(testSA), WithSlowDelay(time.Millisecond))
	srv.Setenv(t)
	srv.Inject(SlowHeaders, EndpointMetadata, 1)
	if id, err := metadata.NewClient(&http.Client{}).EmailWithContext(testCtx(t), ""); err != nil || id != testSA {
		t.Fatalf("%q, %v", id, err)
	}
}

// TestSlowHeadersOnPost: a slow POST endpoint still reads its body.
func TestSlowHeadersOnPost(t *testing.T) {
	srv := Start(t, WithSlowDelay(time.Millisecond))
	k := srv.NewKey(testSA)
	srv.Inject(SlowHeaders, EndpointToken, 1)
	if _, err := libToken(t, k.JSON(), google.ServiceAccount, CloudPlatformScope); err != nil {
		t.Fatalf("Token: %v", err)
	}
}
