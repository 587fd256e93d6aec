package ecrtoken

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/test/awsfake"
)

// stsRegistry is an sts registry at testHost assuming testRoleA.
func stsRegistry(t *testing.T) *config.Registry {
	t.Helper()
	return registry(t, `registries:
  - name: prod
    type: ecr
    endpoint: `+testHost+`
    credentials: {type: sts, roleArn: "`+testRoleA+`", externalId: ext-1, accessKeyId: `+testKeyID+`, secretAccessKey: `+testSecret+`}
`)
}

// TestTransientFaultsRetried: 5xx and throttling (both codes) for a call
// or two are retried by the SDK, on ECR, ECR Public and STS alike.
func TestTransientFaultsRetried(t *testing.T) {
	tests := []struct {
		fault  awsfake.Fault
		times  int
		action string
		host   string
		sts    bool
	}{
		{awsfake.ServerError, 2, awsfake.ECRGetAuthorizationToken, testHost, false},
		{awsfake.ServiceUnavailable, 1, awsfake.ECRGetAuthorizationToken, testHost, false},
		{awsfake.Throttling, 2, awsfake.ECRGetAuthorizationToken, testHost, false},
		{awsfake.ThrottleException, 2, awsfake.ECRGetAuthorizationToken, testHost, false},
		{awsfake.ThrottleException, 1, awsfake.ECRPublicGetAuthorizationToken, "public.ecr.aws", false},
		{awsfake.Throttling, 1, awsfake.ECRPublicGetAuthorizationToken, "public.ecr.aws", false},
		{awsfake.ServerError, 2, awsfake.STSAssumeRole, testHost, true},
		{awsfake.Throttling, 1, awsfake.STSAssumeRole, testHost, true},
		{awsfake.ThrottleException, 1, awsfake.STSAssumeRole, testHost, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s x%d on %s", tt.fault, tt.times, tt.action), func(t *testing.T) {
			srv := startFake(t)
			reg := secretRegistry(t, tt.host)
			if tt.sts {
				reg = stsRegistry(t)
			}
			srv.Inject(tt.fault, tt.action, tt.times)
			tok, err := NewFetcher().Fetch(testCtx(t), reg)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if !srv.ValidToken("AWS", tok.Password.Reveal()) {
				t.Error("token not valid")
			}
			if n := srv.CallCount(tt.action); n != tt.times+1 {
				t.Errorf("%d calls of %s, want %d (%d faults, then success)", n, tt.action, tt.times+1, tt.times)
			}
		})
	}
}

// TestFaultsReported: what is not retried, or keeps failing, comes back as
// a *Failure naming the operation that failed and AWS's code.
func TestFaultsReported(t *testing.T) {
	tests := []struct {
		name    string
		sts     bool
		host    string
		setup   func(srv *awsfake.Server)
		code    string
		msg     string // the error starts with this
		notMsg  string // and does not hold this
		calls   string // the action counted
		ncalls  int
		nECRTok int // GetAuthorizationToken calls
	}{
		{
			name: "ECR access denied",
			setup: func(s *awsfake.Server) {
				s.Inject(awsfake.AccessDenied, awsfake.ECRGetAuthorizationToken, awsfake.Forever)
			},
			code:  "AccessDeniedException",
			msg:   "ECR GetAuthorizationToken: AccessDeniedException: User: arn:aws:iam::123456789012:user/awsfake is not authorized to perform: ecr:GetAuthorizationToken",
			calls: awsfake.ECRGetAuthorizationToken, ncalls: 1, nECRTok: 1,
		},
		{
			name: "ECR access denied to the role",
			sts:  true,
			setup: func(s *awsfake.Server) {
				s.Inject(awsfake.AccessDenied, awsfake.ECRGetAuthorizationToken, awsfake.Forever)
			},
			code:  "AccessDeniedException",
			msg:   "ECR GetAuthorizationToken: AccessDeniedException: User: arn:aws:sts::210987654321:assumed-role/ecr-pull-a/ocicred",
			calls: awsfake.STSAssumeRole, ncalls: 1, nECRTok: 1,
		},
		{
			name:  "access key denied",
			setup: func(s *awsfake.Server) { s.DenyAccessKey(testKeyID) },
			code:  "AccessDeniedException",
			msg:   "ECR GetAuthorizationToken: AccessDeniedException:",
			calls: awsfake.ECRGetAuthorizationToken, ncalls: 1, nECRTok: 1,
		},
		{
			name: "ECR Public access denied",
			host: "public.ecr.aws",
			setup: func(s *awsfake.Server) {
				s.Inject(awsfake.AccessDenied, awsfake.ECRPublicGetAuthorizationToken, awsfake.Forever)
			},
			code:  "AccessDeniedException",
			msg:   "ECR PUBLIC GetAuthorizationToken: AccessDeniedException: User: arn:aws:iam::123456789012:user/awsfake is not authorized to perform: ecr-public:GetAuthorizationToken",
			calls: awsfake.ECRPublicGetAuthorizationToken, ncalls: 1,
		},
		{
			name:   "role denied",
			sts:    true,
			setup:  func(s *awsfake.Server) { s.DenyRole(testRoleA) },
			code:   "AccessDenied",
			msg:    "STS AssumeRole: AccessDenied: User: arn:aws:iam::123456789012:user/awsfake is not authorized to perform: sts:AssumeRole on resource: " + testRoleA,
			notMsg: "ECR",
			calls:  awsfake.STSAssumeRole, ncalls: 1, nECRTok: 0,
		},
		{
			name:   "STS access denied",
			sts:    true,
			setup:  func(s *awsfake.Server) { s.Inject(awsfake.AccessDenied, awsfake.STSAssumeRole, awsfake.Forever) },
			code:   "AccessDenied",
			msg:    "STS AssumeRole: AccessDenied:",
			notMsg: "ECR",
			calls:  awsfake.STSAssumeRole, ncalls: 1, nECRTok: 0,
		},
		{
			name: "ECR expired credentials",
			setup: func(s *awsfake.Server) {
				s.Inject(awsfake.ExpiredCredentials, awsfake.ECRGetAuthorizationToken, awsfake.Forever)
			},
			code:  "ExpiredTokenException",
			msg:   "ECR GetAuthorizationToken: ExpiredTokenException: The security token included in the request is expired",
			calls: awsfake.ECRGetAuthorizationToken, ncalls: 1, nECRTok: 1,
		},
		{
			name:   "base keys expired for STS",
			sts:    true,
			setup:  func(s *awsfake.Server) { s.Inject(awsfake.ExpiredCredentials, awsfake.STSAssumeRole, awsfake.Forever) },
			code:   "ExpiredTokenException",
			msg:    "STS AssumeRole: ExpiredTokenException:",
			notMsg: "ECR",
			calls:  awsfake.STSAssumeRole, ncalls: 1, nECRTok: 0,
		},
		{
			name: "5xx that does not stop",
			setup: func(s *awsfake.Server) {
				s.Inject(awsfake.ServerError, awsfake.ECRGetAuthorizationToken, awsfake.Forever)
			},
			code:  "ServerException",
			msg:   "ECR GetAuthorizationToken: ServerException:",
			calls: awsfake.ECRGetAuthorizationToken, ncalls: maxAttempts, nECRTok: maxAttempts,
		},
		{
			name: "ThrottleException that does not stop",
			setup: func(s *awsfake.Server) {
				s.Inject(awsfake.ThrottleException, awsfake.ECRGetAuthorizationToken, awsfake.Forever)
			},
			code:  ThrottleException,
			msg:   "ECR GetAuthorizationToken: ThrottleException: Rate exceeded",
			calls: awsfake.ECRGetAuthorizationToken, ncalls: maxAttempts, nECRTok: maxAttempts,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startFake(t)
			host := tt.host
			if host == "" {
				host = testHost
			}
			reg := secretRegistry(t, host)
			if tt.sts {
				reg = stsRegistry(t)
			}
			tt.setup(srv)
			f := NewFetcher()
			var onCallErr error
			f.OnCall = func(_ string, err error) { onCallErr = err }
			_, err := f.Fetch(testCtx(t), reg)
			if err == nil {
				t.Fatal("Fetch succeeded")
			}
			if onCallErr == nil {
				t.Error("OnCall was not told of the failure")
			}
			var ae *Failure
			if !errors.As(err, &ae) || ae.Code != tt.code {
				t.Errorf("error %v (%T) is not a *Failure with code %s", err, err, tt.code)
			}
			if !strings.HasPrefix(err.Error(), tt.msg) {
				t.Errorf("error:\n  %v\nwant it to start with\n  %s", err, tt.msg)
			}
			if tt.notMsg != "" && strings.Contains(err.Error(), tt.notMsg) {
				t.Errorf("error %q names %s", err, tt.notMsg)
			}
			if n := srv.CallCount(tt.calls); n != tt.ncalls {
				t.Errorf("%d calls of %s, want %d", n, tt.calls, tt.ncalls)
			}
			if n := srv.CallCount(awsfake.ECRGetAuthorizationToken); n != tt.nECRTok {
				t.Errorf("%d GetAuthorizationToken calls, want %d", n, tt.nECRTok)
			}

			// Once AWS relents, the same Fetcher recovers.
			srv.ClearFaults()
			srv.AllowAll()
			if _, err := f.Fetch(testCtx(t), reg); err != nil {
				t.Errorf("Fetch after the fault cleared: %v", err)
			}
		})
	}
}

// TestHangCutByContext: an AWS call that never answers is cut by the
// caller's deadline, whether ECR or STS hangs.
func TestHangCutByContext(t *testing.T) {
	for _, action := range []string{awsfake.ECRGetAuthorizationToken, awsfake.STSAssumeRole} {
		t.Run(action, func(t *testing.T) {
			srv := startFake(t)
			srv.Inject(awsfake.Hang, action, awsfake.Forever)
			ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := NewFetcher().Fetch(ctx, stsRegistry(t))
			took := time.Since(start)
			if err == nil {
				t.Fatal("Fetch succeeded against a hung AWS")
			}
			// Logged, not bounded: the error below says whose deadline cut
			// the call (the caller's, not CallTimeout).
			t.Logf("Fetch returned after %v; the caller's deadline was 1.5s", took.Round(time.Millisecond))
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v does not wrap context.DeadlineExceeded", err)
			}
			if !strings.Contains(err.Error(), "AWS did not answer") {
				t.Errorf("error %q does not say AWS did not answer", err)
			}
			if strings.Contains(err.Error(), CallTimeout.String()) {
				t.Errorf("error %q blames the %s call timeout; the caller's deadline cut the call", err, CallTimeout)
			}
			if n := srv.CallCount(action); n != 1 {
				t.Errorf("%d calls of %s, want 1 (no retry past the deadline)", n, action)
			}
		})
	}
}

// TestExplain: the operation and code of an API error, a deadline said as
// such, anything else unchanged.
func TestExplain(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}
	stsOp := &smithy.OperationError{ServiceID: "STS", OperationName: "AssumeRole", Err: denied}
	ecrOp := &smithy.OperationError{ServiceID: "ECR", OperationName: "GetAuthorizationToken",
		Err: fmt.Errorf("get identity: %w", stsOp)}
	other := errors.New("something else")
	tests := []struct {
		err  error
		want string
	}{
		{ecrOp, "STS AssumeRole: AccessDenied: no; access denied: give the identity the policy that `ocicred policy` prints"},
		{&smithy.OperationError{ServiceID: "ECR", OperationName: "GetAuthorizationToken", Err: denied}, "ECR GetAuthorizationToken: AccessDenied: no; access denied:"},
		{denied, "AccessDenied: no; access denied:"},
		{&smithy.GenericAPIError{Code: "ThrottlingException", Message: "slow down"}, "ThrottlingException: slow down; throttled by AWS: retrying with backoff"},
		{&smithy.GenericAPIError{Code: "SignatureDoesNotMatch", Message: "bad"}, "SignatureDoesNotMatch: bad; AWS rejected the keys: check accessKeyId"},
		{&smithy.GenericAPIError{Code: "RequestExpired", Message: "late"}, "RequestExpired: late; clock skew: the node's clock differs from AWS's"},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), "AWS did not answer in time; AWS unreachable: check the node's network"},
		{&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, "cannot reach AWS: dial tcp: connection refused; AWS unreachable:"},
		{other, "something else"},
	}
	for _, tt := range tests {
		got := Explain(tt.err)
		if !strings.HasPrefix(got.Error(), tt.want) {
			t.Errorf("Explain(%v) = %q, want %q", tt.err, got, tt.want)
		}
		if !errors.Is(got, tt.err) {
			t.Errorf("Explain(%v) does not wrap it", tt.err)
		}
	}
}
