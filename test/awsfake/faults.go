package awsfake

import (
	"net/http"

	"github.com/ocicred/ocicred/test/fakekit"
)

// Fault is a failure the server answers instead of doing the call. The
// package documentation lists the wire answer of each.
type Fault int

// The faults Inject accepts.
const (
	NoFault            Fault = iota
	ServerError              // 500, retried by the SDK
	ServiceUnavailable       // 503, retried by the SDK
	Throttling               // 400 ThrottlingException (STS: Throttling), retried
	ThrottleException        // 400 ThrottleException, not retried by default
	AccessDenied             // ECR 400 AccessDeniedException, STS 403 AccessDenied
	ExpiredCredentials       // 400 ExpiredTokenException
	Hang                     // no answer until the client gives up or Close
)

var faultNames = [...]string{"", "ServerError", "ServiceUnavailable", "Throttling",
	"ThrottleException", "AccessDenied", "ExpiredCredentials", "Hang"}

// String returns the fault's Go name, "" for NoFault.
func (f Fault) String() string { return fakekit.Name(faultNames[:], int(f)) }

// Forever, as Inject's times, keeps a fault until ClearFaults.
const Forever = fakekit.Forever

// Inject makes calls matching action (an action constant, a bare action
// name, or AnyAction) fail with f: the next times calls, or every call until
// ClearFaults when times is Forever (or negative). Earlier injections are
// checked first.
func (s *Server) Inject(f Fault, action string, times int) {
	s.faults.Inject(f, action, times)
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.faults.Clear()
}

// takeFault returns the fault for this call, using up one of its times.
func (s *Server) takeFault(service, action string) Fault {
	return s.faults.Take(func(pattern string) bool { return matches(pattern, service, action) })
}

// faultError is the wire answer of fault f to call c in protocol p.
func faultError(f Fault, p protocol, c *Call) *apiError {
	json := p == protoJSON
	switch f {
	case ServerError:
		if json {
			return &apiError{http.StatusInternalServerError, "ServerException", "Internal service error"}
		}
		return &apiError{http.StatusInternalServerError, "InternalFailure", "An internal error occurred"}
	case ServiceUnavailable:
		return &apiError{http.StatusServiceUnavailable, "ServiceUnavailable", "Service is unavailable"}
	case Throttling:
		if json {
			return &apiError{http.StatusBadRequest, "ThrottlingException", "Rate exceeded"}
		}
		return &apiError{http.StatusBadRequest, "Throttling", "Rate exceeded"}
	case ThrottleException:
		return &apiError{http.StatusBadRequest, "ThrottleException", "Rate exceeded"}
	case AccessDenied:
		return accessDenied(p, c)
	case ExpiredCredentials:
		return expiredToken()
	}
	return &apiError{http.StatusInternalServerError, "InternalFailure", "unknown fault " + f.String()}
}

// accessDenied is AWS's answer to a call the caller may not make.
func accessDenied(p protocol, c *Call) *apiError {
	who := c.Principal
	if who == "" {
		who = "arn:aws:iam::" + DefaultAccount + ":user/unknown"
	}
	msg := "User: " + who + " is not authorized to perform: " + qualify(c.Service, c.Action)
	if p == protoJSON {
		return &apiError{http.StatusBadRequest, "AccessDeniedException",
			msg + " on resource: * because no identity-based policy allows the " + qualify(c.Service, c.Action) + " action"}
	}
	resource := c.RoleArn
	if resource == "" {
		resource = "*"
	}
	return &apiError{http.StatusForbidden, "AccessDenied", msg + " on resource: " + resource}
}

// expiredToken is AWS's answer to a call signed with expired keys.
func expiredToken() *apiError {
	return &apiError{http.StatusBadRequest, "ExpiredTokenException",
		"The security token included in the request is expired"}
}

// DenyRole makes AssumeRole* on arn, and every call signed with keys of that
// role, fail with AccessDenied until AllowAll.
func (s *Server) DenyRole(arn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.deniedRoles[arn] = true
}

// DenyAccessKey makes every call signed with access key id akid fail with
// AccessDenied until AllowAll.
func (s *Server) DenyAccessKey(akid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.deniedKeys[akid] = true
}

// AllowAll empties the deny lists.
func (s *Server) AllowAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.state.deniedRoles)
	clear(s.state.deniedKeys)
}

// denied reports whether c's key or role is on a deny list.
func (s *Server) denied(c *Call) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.deniedKeys[c.AccessKeyID] || s.state.deniedRoles[c.RoleArn]
}
