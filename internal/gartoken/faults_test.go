package gartoken

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/test/gcpfake"
)

// TestFetchBoundedAgainstHang: whichever endpoint hangs, Fetch returns
// (unreachable) when the Fetcher's timeout ends, and the hung request is
// abandoned: the fake sees its client go.
func TestFetchBoundedAgainstHang(t *testing.T) {
	tests := []struct {
		endpoint string
		setup    func(t *testing.T, e *env) *config.Registry
	}{
		{gcpfake.EndpointToken, func(t *testing.T, e *env) *config.Registry {
			reg, _ := e.keyRegistry(t, testSA)
			return reg
		}},
		{gcpfake.EndpointSTS, func(t *testing.T, e *env) *config.Registry {
			return registry(t, "{type: workloadIdentity, configFile: "+e.externalAccount(t, "s", "")+"}")
		}},
		{gcpfake.EndpointIAM, func(t *testing.T, e *env) *config.Registry {
			k := e.srv.NewKey(testSA)
			e.srv.AllowImpersonation(testSA, testTarget)
			return registry(t, "{type: impersonate, serviceAccount: "+testTarget+", base: {type: serviceAccountKey, keyFile: "+writeFile(t, "k", k.JSON())+"}}")
		}},
		{gcpfake.EndpointMetadata, func(t *testing.T, e *env) *config.Registry {
			e.srv.SetMetadataAccount(testVM)
			return registry(t, "")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			e := start(t)
			e.srv.RegisterSubject(gcpfake.Subject{Token: "s", Audience: testAud, SubjectTokenType: jwtType, Principal: testFed})
			reg := tt.setup(t, e)
			e.srv.Inject(gcpfake.Hang, tt.endpoint, gcpfake.Forever)
			// The metadata attempts would each wait longer than the
			// fetch: the fetch's own bound is what ends it.
			f := newFetcher(e.srv, e.clock, e.seen, WithTimeout(300*time.Millisecond), WithMetadataTimeout(time.Hour))
			_, err := f.Fetch(testCtx(t), reg)
			var fl *Failure
			if !errors.As(err, &fl) || fl.Kind != KindUnreachable || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("got %v, want %s by the deadline", err, KindUnreachable)
			}
			if n := e.srv.CallCount(tt.endpoint); n != 1 {
				t.Errorf("%d calls of %s, want 1", n, tt.endpoint)
			}
			if err := e.srv.WaitHanging(testCtx(t), 0); err != nil {
				t.Fatalf("the hung request was not abandoned: %v", err)
			}
		})
	}
}

// TestFetchHonoursContext: the caller's context ends a fetch too.
func TestFetchHonoursContext(t *testing.T) {
	e := start(t)
	reg, _ := e.keyRegistry(t, testSA)
	e.srv.Inject(gcpfake.Hang, gcpfake.EndpointToken, gcpfake.Forever)
	ctx, cancel := context.WithCancel(testCtx(t))
	done := make(chan error, 1)
	go func() {
		_, err := e.f.Fetch(ctx, reg)
		done <- err
	}()
	if err := e.srv.WaitCalls(testCtx(t), gcpfake.EndpointToken, 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	var fl *Failure
	if err := <-done; !errors.As(err, &fl) || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want a cancelled fetch", err)
	}
}

// TestMetadataRetries: 5xx answers and attempts that time out are tried
// again, up to MetadataAttempts in all; a 404 is not.
func TestMetadataRetries(t *testing.T) {
	tests := []struct {
		fault gcpfake.Fault
		times int
		calls int
		ok    bool
	}{
		{gcpfake.ServerError, 2, 3, true},
		{gcpfake.ServiceUnavailable, 1, 2, true},
		{gcpfake.SlowHeaders, 2, 3, true},
		{gcpfake.Hang, 1, 2, true},
		{gcpfake.ServerError, gcpfake.Forever, MetadataAttempts, false},
		{gcpfake.NotFound, gcpfake.Forever, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.fault.String(), func(t *testing.T) {
			e := start(t, gcpfake.WithMetadataAccount(testVM), gcpfake.WithSlowDelay(time.Hour))
			e.srv.Inject(tt.fault, gcpfake.EndpointMetadata, tt.times)
			f := newFetcher(e.srv, e.clock, e.seen, WithMetadataTimeout(500*time.Millisecond))
			tok, err := f.Fetch(testCtx(t), registry(t, ""))
			if tt.ok != (err == nil) {
				t.Fatalf("Fetch: %v", err)
			}
			if tt.ok {
				if who, _ := e.srv.TokenOwner(tok.Password.Reveal()); who != testVM {
					t.Errorf("owner %q", who)
				}
			}
			if n := e.srv.CallCount(gcpfake.EndpointMetadata); n != tt.calls {
				t.Errorf("%d metadata calls, want %d", n, tt.calls)
			}
		})
	}
}

// TestNearExpiry: a token with only a minute left is taken, and says so.
func TestNearExpiry(t *testing.T) {
	for _, endpoint := range []string{gcpfake.EndpointMetadata, gcpfake.EndpointToken, gcpfake.EndpointIAM} {
		t.Run(endpoint, func(t *testing.T) {
			e := start(t, gcpfake.WithMetadataAccount(testVM))
			e.srv.AllowImpersonation(testVM, testTarget)
			reg := registry(t, "")
			switch endpoint {
			case gcpfake.EndpointToken:
				reg, _ = e.keyRegistry(t, testSA)
			case gcpfake.EndpointIAM:
				reg = registry(t, "{type: impersonate, serviceAccount: "+testTarget+"}")
			}
			e.srv.Inject(gcpfake.NearExpiry, endpoint, 1)
			tok, err := e.f.Fetch(testCtx(t), reg)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if d := tok.ExpiresAt.Sub(e.clock.Now()); d > time.Minute || d < 50*time.Second {
				t.Errorf("ExpiresAt in %s, want a minute", d)
			}
		})
	}
}

// TestTransientTokenEndpointFault: x/oauth2 does not retry; the next
// fetch (the daemon's retry) works.
func TestTransientTokenEndpointFault(t *testing.T) {
	e := start(t)
	reg, _ := e.keyRegistry(t, testSA)
	e.srv.Inject(gcpfake.ServiceUnavailable, gcpfake.EndpointToken, 1)
	if _, err := e.f.Fetch(testCtx(t), reg); err == nil {
		t.Fatal("Fetch succeeded through a 503")
	}
	if _, err := e.f.Fetch(testCtx(t), reg); err != nil {
		t.Fatalf("second Fetch: %v", err)
	}
}
