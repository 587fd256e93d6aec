package gcpfake

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"time"

	"github.com/ocicred/ocicred/test/fakekit"
)

// Fault is a failure the server answers instead of doing the call, or an
// answer it spoils. The package documentation lists the wire answer of each.
type Fault int

// The faults Inject accepts.
const (
	NoFault            Fault = iota
	ServerError              // 500
	ServiceUnavailable       // 503
	Hang                     // no answer until the client gives up or Close
	InvalidGrant             // 400 invalid_grant with Google's clock-skew text
	ExpiredToken             // success, but expires_in 0 (or an expireTime of now)
	NearExpiry               // success, but expires_in 60
	SlowHeaders              // the answer after the slow delay (WithSlowDelay), unless the client gives up first
	NotFound                 // 404 (the metadata server: no such service account)
)

var faultNames = [...]string{"", "ServerError", "ServiceUnavailable", "Hang", "InvalidGrant",
	"ExpiredToken", "NearExpiry", "SlowHeaders", "NotFound"}

// String returns the fault's Go name, "" for NoFault.
func (f Fault) String() string { return fakekit.Name(faultNames[:], int(f)) }

// Forever, as Inject's times, keeps a fault until ClearFaults.
const Forever = fakekit.Forever

// nearExpiry is expires_in of the NearExpiry fault.
const nearExpiry = 60 * time.Second

// Inject makes calls of endpoint (an Endpoint constant, or AnyEndpoint)
// fail with f: the next times calls, or every call until ClearFaults when
// times is Forever (or negative). Earlier injections are checked first.
func (s *Server) Inject(f Fault, endpoint string, times int) {
	s.faults.Inject(f, endpoint, times)
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.faults.Clear()
}

// takeFault returns the fault for a call of endpoint, using up one of its times.
func (s *Server) takeFault(endpoint string) Fault {
	return s.faults.Take(func(pattern string) bool { return matches(pattern, endpoint) })
}

// preFault applies the faults that replace or delay an answer. It returns
// false when it has answered (or hung) and the handler must stop. c is
// recorded here in that case.
func (s *Server) preFault(w http.ResponseWriter, r *http.Request, c *Call, wireErr func(w http.ResponseWriter, status int, msg string) string) bool {
	switch c.Fault {
	case Hang:
		// Read the body first: only then does the server watch the
		// connection, and see the client give up.
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxBody))
		s.hang(r.Context(), *c)
		return false
	case SlowHeaders:
		// As for Hang; the answer still needs the body.
		b, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
		r.Body = io.NopCloser(bytes.NewReader(b))
		t := time.NewTimer(s.opts.slowDelay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			c.Error = "client gave up"
			s.record(*c)
			return false
		case <-s.closing:
			return false
		}
	case ServerError:
		c.Status = http.StatusInternalServerError
		c.Error = wireErr(w, c.Status, "Internal error encountered.")
		s.record(*c)
		return false
	case ServiceUnavailable:
		c.Status = http.StatusServiceUnavailable
		c.Error = wireErr(w, c.Status, "The service is currently unavailable.")
		s.record(*c)
		return false
	}
	return true
}

// hang blocks until the client gives up or the server closes, then drops
// the connection without an answer.
func (s *Server) hang(ctx context.Context, c Call) {
	release := s.calls.Hold()
	defer release()
	s.record(c) // once recorded, Hanging counts it (and WaitHanging wakes)
	select {
	case <-ctx.Done():
	case <-s.closing:
	}
	panic(http.ErrAbortHandler)
}

// lifetimeFor is the expires_in of a token issued under fault f.
func (s *Server) lifetimeFor(f Fault) time.Duration {
	switch f {
	case ExpiredToken:
		return 0
	case NearExpiry:
		return nearExpiry
	}
	return s.opts.tokenLifetime
}
