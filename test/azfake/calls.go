package azfake

import (
	"context"
	"fmt"
	"time"
)

// Endpoints the server answers, as Call.Endpoint names them. Inject,
// CallCount and WaitCalls take one of them, or AnyEndpoint.
const (
	EndpointOpenID     = "openid-configuration" // GET /{tenant}/v2.0/.well-known/openid-configuration
	EndpointToken      = "token"                // POST /{tenant}/oauth2/v2.0/token
	EndpointDiscovery  = "instance-discovery"   // GET /common/discovery/instance
	EndpointIMDS       = "imds"                 // GET /metadata/identity/oauth2/token
	EndpointAppService = "app-service"          // GET /msi/token (IDENTITY_ENDPOINT)
	EndpointExchange   = "acr-exchange"         // POST /oauth2/exchange on a registry
	EndpointACRToken   = "acr-token"            // GET or POST /oauth2/token on a registry
	EndpointV2         = "acr-v2"               // /v2/... on a registry

	AnyEndpoint = ""
)

// Call is the record of one request. Calls are recorded as they are
// answered; a hung call when it starts hanging. No secret is recorded.
type Call struct {
	Endpoint string
	Method   string
	Tenant   string // from the path (Entra) or the exchange form
	ClientID string // client_id (Entra, IMDS) or the principal's appid (registry)
	// ResourceID is IMDS's msi_res_id (mi_res_id for App Service).
	ResourceID string
	Scope      string // scope (Entra, registry token) or resource (IMDS)
	// Assertion is how the client authenticated at the token endpoint:
	// "secret", "certificate", "federated" or "" (none or other).
	Assertion string
	Registry  string // the registry host, for registry calls
	Fault     Fault  // the injected fault, NoFault when none
	Status    int    // the HTTP status answered; 0 while hanging
	Error     string // the error code answered (e.g. "AADSTS7000215", "UNAUTHORIZED"), "" on success
	Time      time.Time
}

// record appends c to the call log and logs it, without secrets.
func (s *Server) record(c Call) {
	c.Time = s.now()
	s.calls.Record(c)
	s.opts.log.Info("azure call", "endpoint", c.Endpoint, "method", c.Method, "tenant", c.Tenant,
		"client_id", c.ClientID, "scope", c.Scope, "registry", c.Registry,
		"fault", c.Fault.String(), "status", c.Status, "error", c.Error)
}

// Calls returns a copy of every call received since the start or Reset.
func (s *Server) Calls() []Call {
	return s.calls.Snapshot()
}

// CallCount returns how many calls went to endpoint (AnyEndpoint: all),
// failed and hanging ones included.
func (s *Server) CallCount(endpoint string) int {
	return s.calls.Count(callsTo(endpoint))
}

// callsTo is the call matcher of endpoint (an Endpoint constant or AnyEndpoint).
func callsTo(endpoint string) func(Call) bool {
	return func(c Call) bool { return matches(endpoint, c.Endpoint) }
}

// matches reports whether pattern (an Endpoint constant or AnyEndpoint)
// names endpoint.
func matches(pattern, endpoint string) bool {
	return pattern == AnyEndpoint || pattern == endpoint
}

// WaitCalls waits until n calls went to endpoint (as CallCount counts
// them), or ctx is done.
func (s *Server) WaitCalls(ctx context.Context, endpoint string, n int) error {
	got, err := s.calls.WaitCount(ctx, callsTo(endpoint), n)
	if err != nil {
		return fmt.Errorf("azfake: %d of %d calls to %q: %w", got, n, endpoint, err)
	}
	return nil
}

// Hanging is how many calls hang now (the Hang fault): recorded, not
// answered, their client still waiting.
func (s *Server) Hanging() int {
	return s.calls.Hanging()
}

// Reset forgets the calls received so far; faults, principals and grants
// stay.
func (s *Server) Reset() {
	s.calls.Reset()
}

// WaitHanging waits until exactly n calls hang (see Hanging), or ctx is
// done.
func (s *Server) WaitHanging(ctx context.Context, n int) error {
	got, err := s.calls.WaitHanging(ctx, n)
	if err != nil {
		return fmt.Errorf("azfake: %d calls hanging, want %d: %w", got, n, err)
	}
	return nil
}
