package awsfake

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Actions the server answers, as "service:Action" (the IAM action names).
// Wherever an action is asked for, the bare name ("AssumeRole") matches it in
// every service, and AnyAction matches every call.
const (
	ECRGetAuthorizationToken       = "ecr:GetAuthorizationToken"
	ECRPublicGetAuthorizationToken = "ecr-public:GetAuthorizationToken"
	STSAssumeRole                  = "sts:AssumeRole"
	STSAssumeRoleWithWebIdentity   = "sts:AssumeRoleWithWebIdentity"
	STSGetCallerIdentity           = "sts:GetCallerIdentity"

	AnyAction = ""
)

// Call is the record of one request. Calls are logged as they are answered;
// a hung call when it starts hanging.
type Call struct {
	Service     string // "ecr", "ecr-public" or "sts"
	Action      string // e.g. "GetAuthorizationToken"
	AccessKeyID string // from the SigV4 credential scope; "" when unsigned
	Region      string // from the SigV4 credential scope
	// Principal is the caller's ARN: an IAM user for long-term keys, an
	// assumed-role session for keys this server issued.
	Principal string
	// RoleArn is the role asked for (AssumeRole*) or, for other calls, the
	// role whose temporary keys signed the call.
	RoleArn         string
	ExternalID      string
	RoleSessionName string
	DurationSeconds int      // as sent; 0 when absent
	RegistryIDs     []string // ECR registryIds, as sent
	Fault           Fault    // the injected fault, NoFault when none
	ErrorCode       string   // the error answered, "" on success
	Time            time.Time
}

// qualify returns "service:action".
func qualify(service, action string) string {
	return service + ":" + action
}

// matches reports whether pattern (see the action constants) names this call.
func matches(pattern, service, action string) bool {
	switch {
	case pattern == AnyAction:
		return true
	case strings.Contains(pattern, ":"):
		return pattern == qualify(service, action)
	default:
		return pattern == action
	}
}

// record appends c to the call log and logs it, without secrets.
func (s *Server) record(c Call) {
	s.calls.Record(c)
	s.opts.log.Info("aws call", "service", c.Service, "action", c.Action,
		"access_key_id", c.AccessKeyID, "region", c.Region, "role_arn", c.RoleArn,
		"fault", c.Fault.String(), "error", c.ErrorCode)
}

// Calls returns a copy of every call received since the start or Reset.
func (s *Server) Calls() []Call {
	out := s.calls.Snapshot()
	for i := range out {
		out[i].RegistryIDs = slices.Clone(out[i].RegistryIDs)
	}
	return out
}

// CallCount returns how many calls match action, failed ones included.
func (s *Server) CallCount(action string) int {
	return s.calls.Count(callsOf(action))
}

// callsOf is the call matcher of action (see the action constants).
func callsOf(action string) func(Call) bool {
	return func(c Call) bool { return matches(action, c.Service, c.Action) }
}

// WaitCalls waits until n calls match action (failed and hanging ones
// included, as CallCount counts them), or ctx is done. A test waits on it
// for the calls a process it drives makes, instead of polling.
func (s *Server) WaitCalls(ctx context.Context, action string, n int) error {
	got, err := s.calls.WaitCount(ctx, callsOf(action), n)
	if err != nil {
		return fmt.Errorf("awsfake: %d of %d calls of %q: %w", got, n, action, err)
	}
	return nil
}

// WaitCall waits until a call that match accepts has been received (since
// the start or Reset), and returns the first such call; an error when ctx
// is done first.
func (s *Server) WaitCall(ctx context.Context, match func(Call) bool) (Call, error) {
	c, err := s.calls.WaitFirst(ctx, match)
	if err != nil {
		return Call{}, fmt.Errorf("awsfake: no such call: %w", err)
	}
	return c, nil
}

// Hanging is how many calls hang now (the Hang fault): recorded, not
// answered, their client still waiting.
func (s *Server) Hanging() int {
	return s.calls.Hanging()
}

// Reset forgets the calls received so far. Faults, deny lists, and issued
// tokens and keys are left as they are (see ClearFaults and AllowAll).
func (s *Server) Reset() {
	s.calls.Reset()
}
