package azfake

import (
	"context"
	"net/http"
	"time"

	"github.com/ocicred/ocicred/test/fakekit"
)

// Fault is a failure the server answers instead of doing the call. The
// package documentation lists the wire answer of each.
type Fault int

// The faults Inject accepts.
const (
	NoFault            Fault = iota
	ServerError              // 500
	ServiceUnavailable       // 503
	Throttled                // 429 with Retry-After
	Hang                     // no answer until the request's context ends or Close
	InvalidGrant             // Entra 400 invalid_grant; registry 401 UNAUTHORIZED
	Expired                  // answers, but with a token that has already expired
)

var faultNames = [...]string{"", "ServerError", "ServiceUnavailable", "Throttled", "Hang", "InvalidGrant", "Expired"}

// String returns the fault's Go name, "" for NoFault.
func (f Fault) String() string { return fakekit.Name(faultNames[:], int(f)) }

// Forever, as Inject's times, keeps a fault until ClearFaults.
const Forever = fakekit.Forever

// Inject makes calls to endpoint (an Endpoint constant, or AnyEndpoint)
// fail with f: the next times calls, or every call until ClearFaults when
// times is Forever (or negative). Earlier injections are checked first.
func (s *Server) Inject(f Fault, endpoint string, times int) {
	s.faults.Inject(f, endpoint, times)
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.faults.Clear()
}

// takeFault returns the fault for a call to endpoint, using up one of its times.
func (s *Server) takeFault(endpoint string) Fault {
	return s.faults.Take(func(pattern string) bool { return matches(pattern, endpoint) })
}

// SetClockSkew shifts the server's clock by d (positive: the server is
// ahead of the caller): the tokens it issues carry iat/nbf/exp shifted by
// d, and it checks assertions and tokens against the shifted clock, as a
// cloud whose clock differs from the node's does.
func (s *Server) SetClockSkew(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.skew = d
}

// now is the server's clock, skew included.
func (s *Server) now() time.Time {
	s.mu.Lock()
	d := s.skew
	s.mu.Unlock()
	return s.opts.now().Add(d)
}

// hang records c as hanging and blocks until ctx ends or the server closes.
func (s *Server) hang(ctx context.Context, c Call) {
	c.Fault = Hang
	s.record(c)
	release := s.calls.Hold()
	defer release()
	select {
	case <-ctx.Done():
	case <-s.closing:
	}
}

// transientFault writes the answer of a 5xx or 429 fault and reports
// whether f was one.
func transientFault(w http.ResponseWriter, f Fault, c *Call, body func(status int, code, desc string)) bool {
	switch f {
	case ServerError:
		c.Status, c.Error = http.StatusInternalServerError, "server_error"
		body(c.Status, "server_error", "AADSTS50000: There was an error issuing a token or an issue with our sign-in service.")
	case ServiceUnavailable:
		c.Status, c.Error = http.StatusServiceUnavailable, "temporarily_unavailable"
		body(c.Status, "temporarily_unavailable", "AADSTS90033: A transient error has occurred. Please try again.")
	case Throttled:
		w.Header().Set("Retry-After", "1")
		c.Status, c.Error = http.StatusTooManyRequests, "too_many_requests"
		body(c.Status, "temporarily_unavailable", "AADSTS50196: The server terminated an operation because it encountered a client request loop.")
	default:
		return false
	}
	return true
}
