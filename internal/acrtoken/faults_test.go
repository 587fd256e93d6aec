package acrtoken

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ocicred/ocicred/test/azfake"
)

// TestFaults: every fault of Entra ID, IMDS and the exchange is a Failure
// of the right kind, one line, with no secret or token in it.
func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		name     string
		endpoint string
		fault    azfake.Fault
		mi       bool // use a managed identity (IMDS) instead of the client secret
		setup    func(w *world)
		kind     Kind
		code     string
	}{
		{name: "wrong secret", setup: func(w *world) { w.fake.AddClientSecret(tenant, appID, "rotated-elsewhere") }, kind: KindBadSecret, code: "AADSTS7000215"},
		{name: "token 500", endpoint: azfake.EndpointToken, fault: azfake.ServerError, kind: KindUnavailable, code: "AADSTS50000"},
		{name: "token 503", endpoint: azfake.EndpointToken, fault: azfake.ServiceUnavailable, kind: KindUnavailable, code: "AADSTS90033"},
		{name: "token 429", endpoint: azfake.EndpointToken, fault: azfake.Throttled, kind: KindThrottled, code: "AADSTS50196"},
		{name: "token invalid grant", endpoint: azfake.EndpointToken, fault: azfake.InvalidGrant, kind: KindBadIdentity, code: "AADSTS70000"},
		{name: "discovery 503", endpoint: azfake.EndpointOpenID, fault: azfake.ServiceUnavailable, kind: KindUnavailable},
		{name: "expired Entra token", endpoint: azfake.EndpointToken, fault: azfake.Expired, kind: KindUnauthorized, code: "UNAUTHORIZED"},
		{name: "no AcrPull", setup: func(w *world) { w.reg.Revoke(appID) }, kind: KindUnauthorized, code: "UNAUTHORIZED"},
		{name: "exchange 500", endpoint: azfake.EndpointExchange, fault: azfake.ServerError, kind: KindUnavailable, code: "SERVER_ERROR"},
		{name: "exchange 429", endpoint: azfake.EndpointExchange, fault: azfake.Throttled, kind: KindThrottled, code: "TEMPORARILY_UNAVAILABLE"},
		{name: "exchange invalid grant", endpoint: azfake.EndpointExchange, fault: azfake.InvalidGrant, kind: KindUnauthorized, code: "UNAUTHORIZED"},
		{name: "IMDS 503", endpoint: azfake.EndpointIMDS, fault: azfake.ServiceUnavailable, mi: true, kind: KindUnavailable, code: "temporarily_unavailable"},
		{name: "IMDS 429", endpoint: azfake.EndpointIMDS, fault: azfake.Throttled, mi: true, kind: KindThrottled},
		{name: "skewed clock", setup: func(w *world) { w.fake.SetClockSkew(-time.Hour) }, kind: KindClockSkew, code: "AADSTS700024"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := start(t, nil)
			w.fake.AddClientSecret(tenant, appID, secretV)
			w.reg.Grant(appID)
			reg := w.secretRegistry(t, w.reg, secretV)
			switch {
			case tc.mi:
				id := uniqueID()
				w.fake.AddManagedIdentity(azfake.ManagedIdentity{ClientID: id})
				w.reg.Grant(id)
				reg = w.registry(t, w.reg, "", "{type: managedIdentity, clientId: "+id+"}", nil)
			case tc.code == "AADSTS700024":
				cert, pemBytes, _ := azfake.NewCertificate("skewed")
				w.fake.AddClientCertificate(tenant, appID, cert)
				path := writeFile(t, "c.pem", pemBytes)
				reg = w.registry(t, w.reg, "    tenantId: "+tenant+"\n", "{type: clientCertificate, clientId: "+appID+", certificateFile: "+path+"}", nil)
			}
			if tc.setup != nil {
				tc.setup(w)
			}
			if tc.endpoint != "" {
				w.fake.Inject(tc.fault, tc.endpoint, azfake.Forever)
			}
			tok, err := w.f.Fetch(testCtx(t), reg)
			f := wantFailure(t, err, tc.kind, tc.code)
			if !tok.ExpiresAt.IsZero() {
				t.Error("a failed fetch returned a token")
			}
			if !strings.HasSuffix(f.Msg, advice(tc.kind)) {
				t.Errorf("message %q does not end with the advice", f.Msg)
			}
			checkNoSecret(t, w, fmt.Sprintf("%v %+v %#v %s", err, err, err, Explain(err)))
		})
	}
}

// checkNoSecret fails when s or the Fetcher's logs hold the client
// secret or any token the fake issued.
func checkNoSecret(t *testing.T, w *world, s string) {
	t.Helper()
	s += w.logs.String()
	if strings.Contains(s, secretV) {
		t.Errorf("the client secret was printed: %s", s)
	}
	if strings.Contains(s, "eyJ") {
		t.Errorf("a token was printed: %s", s)
	}
}

// TestFetchBounded: a hanging Entra ID, IMDS or exchange is given up at
// the Fetcher's timeout (short here) and when the caller's context ends,
// and the hung request is released.
func TestFetchBounded(t *testing.T) {
	for _, ep := range []string{azfake.EndpointOpenID, azfake.EndpointToken, azfake.EndpointIMDS, azfake.EndpointExchange} {
		t.Run(ep, func(t *testing.T) {
			w := start(t, nil, WithTimeout(200*time.Millisecond))
			w.fake.AddClientSecret(tenant, appID, secretV)
			w.reg.Grant(appID)
			reg := w.secretRegistry(t, w.reg, secretV)
			if ep == azfake.EndpointIMDS {
				id := uniqueID()
				w.fake.AddManagedIdentity(azfake.ManagedIdentity{ClientID: id})
				reg = w.registry(t, w.reg, "", "{type: managedIdentity, clientId: "+id+"}", nil)
			}
			w.fake.Inject(azfake.Hang, ep, azfake.Forever)
			_, err := w.f.Fetch(testCtx(t), reg)
			f := wantFailure(t, err, KindUnreachable, "")
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%v does not wrap the deadline", err)
			}
			if w.fake.CallCount(ep) == 0 {
				t.Errorf("no call reached %s: the bound proved nothing", ep)
			}
			if err := w.fake.WaitHanging(testCtx(t), 0); err != nil {
				t.Error(err)
			}
			t.Log(f.Msg)

			// The caller's context ends first.
			ctx, cancel := context.WithCancel(testCtx(t))
			long := NewFetcher(WithTransport(w.fake.Transport()), WithTimeout(time.Hour))
			done := make(chan error, 1)
			go func() { _, err := long.Fetch(ctx, reg); done <- err }()
			if err := w.fake.WaitCalls(testCtx(t), ep, 2); err != nil {
				t.Fatal(err)
			}
			cancel()
			if err := <-done; err == nil {
				t.Error("a cancelled fetch returned a token")
			}
		})
	}
}

// TestTransientThenGood: with azidentity's retries on (short delays), a
// 503 from Entra ID is retried within one Fetch.
func TestTransientThenGood(t *testing.T) {
	w := start(t, nil)
	w.fake.AddClientSecret(tenant, appID, secretV)
	w.reg.Grant(appID)
	f := NewFetcher(WithTransport(w.fake.Transport()), WithRetry(shortRetry()))
	w.fake.Inject(azfake.ServiceUnavailable, azfake.EndpointToken, 1)
	if _, err := f.Fetch(testCtx(t), w.secretRegistry(t, w.reg, secretV)); err != nil {
		t.Fatalf("after one 503: %v", err)
	}
	if n := w.fake.CallCount(azfake.EndpointToken); n != 2 {
		t.Errorf("%d token calls, want 2 (one retry)", n)
	}
}

// TestUnreachable: nothing listening at the authority, or at the
// registry, is said as unreachable.
func TestUnreachable(t *testing.T) {
	w := start(t, nil)
	w.fake.AddClientSecret(tenant, appID, secretV)
	w.reg.Grant(appID)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	host := strings.TrimPrefix(closed.URL, "http://")

	reg := w.secretRegistry(t, w.reg, secretV)
	reg.AuthorityHost = "https://" + host + "/"
	f := wantFailure(t, func() error { _, err := w.f.Fetch(testCtx(t), reg); return err }(), KindUnreachable, "")
	t.Log(f.Msg)

	reg = w.secretRegistry(t, w.reg, secretV)
	reg.Host = host
	f = wantFailure(t, func() error { _, err := w.f.Fetch(testCtx(t), reg); return err }(), KindUnreachable, "")
	t.Log(f.Msg)
	checkNoSecret(t, w, f.Msg)
}
