package gcpfake

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Endpoints the server answers, as Call.Endpoint and Inject name them.
const (
	EndpointToken         = "token"          // POST /token, the JWT-bearer grant
	EndpointMetadata      = "metadata"       // /computeMetadata/v1/...
	EndpointSTS           = "sts"            // POST /v1/token
	EndpointIAM           = "iam"            // POST /v1/projects/-/serviceAccounts/{email}:generateAccessToken
	EndpointRegistryToken = "registry-token" // GET /v2/token on a registry front
	EndpointRegistry      = "registry"       // any other request to a registry front

	AnyEndpoint = ""
)

// Call is the record of one request, without any secret. Calls are logged
// as they are answered; a hung call when it starts hanging.
type Call struct {
	Endpoint string // one of the Endpoint constants
	Path     string // the URL path, e.g. /computeMetadata/v1/project/project-id
	// Principal is who the call was made as: the service account email of
	// an assertion, the metadata server's account, the principal an STS
	// subject token stands for, or the owner of a Bearer/Basic token.
	Principal string
	// Target is the service account generateAccessToken was asked for.
	Target string
	Scopes []string // as asked for; nil when none
	// Lifetime is generateAccessToken's lifetime, as sent.
	Lifetime string
	// User is the Basic user name a registry token request carried.
	User string
	// MetadataFlavor is the Metadata-Flavor header a metadata call carried.
	MetadataFlavor string
	// Encoding is "form" or "json" for STS, as the body was sent.
	Encoding string
	Fault    Fault  // the injected fault, NoFault when none
	Status   int    // the HTTP status answered; 0 for a hung call
	Error    string // the error code answered, "" on success
	Time     time.Time
}

// matches reports whether pattern (an Endpoint constant or AnyEndpoint)
// names endpoint.
func matches(pattern, endpoint string) bool {
	return pattern == AnyEndpoint || pattern == endpoint
}

// record appends c to the call log and logs it, without secrets.
func (s *Server) record(c Call) {
	s.calls.Record(c)
	s.opts.log.Info("gcp call", "endpoint", c.Endpoint, "path", c.Path, "principal", c.Principal,
		"target", c.Target, "user", c.User, "fault", c.Fault.String(), "status", c.Status, "error", c.Error)
}

// Calls returns a copy of every call received since the start or Reset.
func (s *Server) Calls() []Call {
	out := s.calls.Snapshot()
	for i := range out {
		out[i].Scopes = slices.Clone(out[i].Scopes)
	}
	return out
}

// CallsOf returns the calls of one endpoint.
func (s *Server) CallsOf(endpoint string) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if matches(endpoint, c.Endpoint) {
			out = append(out, c)
		}
	}
	return out
}

// CallCount returns how many calls endpoint received, failed ones included.
func (s *Server) CallCount(endpoint string) int {
	return s.calls.Count(callsOf(endpoint))
}

// callsOf is the call matcher of endpoint (an Endpoint constant or AnyEndpoint).
func callsOf(endpoint string) func(Call) bool {
	return func(c Call) bool { return matches(endpoint, c.Endpoint) }
}

// WaitCalls waits until endpoint has received n calls (failed and hanging
// ones included), or ctx is done. A test waits on it for the calls a
// process it drives makes, instead of polling.
func (s *Server) WaitCalls(ctx context.Context, endpoint string, n int) error {
	got, err := s.calls.WaitCount(ctx, callsOf(endpoint), n)
	if err != nil {
		return fmt.Errorf("gcpfake: %d of %d calls of %q: %w", got, n, endpoint, err)
	}
	return nil
}

// Hanging is how many calls hang now (the Hang fault): recorded, not
// answered, their client still waiting.
func (s *Server) Hanging() int {
	return s.calls.Hanging()
}

// WaitHanging waits until n calls hang (see Hanging), or ctx is done. A
// test waits on it with n = 0 to see that a client gave up on a hung call.
func (s *Server) WaitHanging(ctx context.Context, n int) error {
	got, err := s.calls.WaitHanging(ctx, n)
	if err != nil {
		return fmt.Errorf("gcpfake: %d calls hang, waiting for %d: %w", got, n, err)
	}
	return nil
}

// Reset forgets the calls received so far. Faults, grants and issued
// tokens are left as they are.
func (s *Server) Reset() {
	s.calls.Reset()
}
