package awsfake

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"go.uber.org/goleak"
)

// target is one action called through a real SDK client.
type target struct {
	action string
	call   func(ctx context.Context, c clients) error
}

var (
	ecrTarget = target{ECRGetAuthorizationToken, func(ctx context.Context, c clients) error {
		_, err := c.ecr.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
		return err
	}}
	ecrPublicTarget = target{ECRPublicGetAuthorizationToken, func(ctx context.Context, c clients) error {
		_, err := c.ecrPublic.GetAuthorizationToken(ctx, &ecrpublic.GetAuthorizationTokenInput{})
		return err
	}}
	assumeRoleTarget = target{STSAssumeRole, func(ctx context.Context, c clients) error {
		_, err := c.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(testRole), RoleSessionName: aws.String("s1")})
		return err
	}}
	callerIdentityTarget = target{STSGetCallerIdentity, func(ctx context.Context, c clients) error {
		_, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return err
	}}
)

func TestFaultsSurfaceAsSDKErrors(t *testing.T) {
	const retried = 3 // the SDK's default attempts
	tests := []struct {
		fault    Fault
		target   target
		code     string
		attempts int
	}{
		{ServerError, ecrTarget, "ServerException", retried},
		{ServerError, ecrPublicTarget, "ServerException", retried},
		{ServerError, assumeRoleTarget, "InternalFailure", retried},
		{ServiceUnavailable, ecrTarget, "ServiceUnavailable", retried},
		{ServiceUnavailable, callerIdentityTarget, "ServiceUnavailable", retried},
		{Throttling, ecrTarget, "ThrottlingException", retried},
		{Throttling, assumeRoleTarget, "Throttling", retried},
		{ThrottleException, ecrTarget, "ThrottleException", 1},
		{ThrottleException, assumeRoleTarget, "ThrottleException", 1},
		{AccessDenied, ecrTarget, "AccessDeniedException", 1},
		{AccessDenied, ecrPublicTarget, "AccessDeniedException", 1},
		{AccessDenied, assumeRoleTarget, "AccessDenied", 1},
		{ExpiredCredentials, ecrTarget, "ExpiredTokenException", 1},
		{ExpiredCredentials, assumeRoleTarget, "ExpiredTokenException", 1},
	}
	for _, tt := range tests {
		t.Run(tt.fault.String()+"/"+tt.target.action, func(t *testing.T) {
			srv, _, c := start(t)
			srv.Inject(tt.fault, tt.target.action, Forever)
			err := tt.target.call(testCtx(t), c)
			if code := errorCode(err); code != tt.code {
				t.Errorf("error %v (code %q), want code %q", err, code, tt.code)
			}
			if n := srv.CallCount(tt.target.action); n != tt.attempts {
				t.Errorf("server saw %d attempts, want %d", n, tt.attempts)
			}
			if got := srv.Calls()[0]; got.Fault != tt.fault || got.ErrorCode != tt.code {
				t.Errorf("call record fault %v error %q, want %v %q", got.Fault, got.ErrorCode, tt.fault, tt.code)
			}
		})
	}
}

func TestThrottlingRetriedUntilSuccess(t *testing.T) {
	srv, _, c := start(t)
	srv.Inject(Throttling, ECRGetAuthorizationToken, 2)
	if err := ecrTarget.call(testCtx(t), c); err != nil {
		t.Fatalf("GetAuthorizationToken after 2 throttles: %v", err)
	}
	if n := srv.CallCount(ECRGetAuthorizationToken); n != 3 {
		t.Errorf("server saw %d attempts, want 3", n)
	}
}

func TestFaultScope(t *testing.T) {
	srv, _, c := start(t)
	srv.Inject(AccessDenied, STSAssumeRole, 1)
	if err := ecrTarget.call(testCtx(t), c); err != nil {
		t.Errorf("ECR hit by a fault scoped to AssumeRole: %v", err)
	}
	if err := assumeRoleTarget.call(testCtx(t), c); errorCode(err) != "AccessDenied" {
		t.Errorf("first AssumeRole: error %v, want AccessDenied", err)
	}
	if err := assumeRoleTarget.call(testCtx(t), c); err != nil {
		t.Errorf("second AssumeRole after a one-time fault: %v", err)
	}

	srv.Inject(ThrottleException, AnyAction, Forever)
	for _, tg := range []target{ecrTarget, ecrPublicTarget, callerIdentityTarget, ecrTarget} {
		if err := tg.call(testCtx(t), c); errorCode(err) != "ThrottleException" {
			t.Errorf("%s under AnyAction fault: error %v", tg.action, err)
		}
	}
	srv.ClearFaults()
	if err := ecrTarget.call(testCtx(t), c); err != nil {
		t.Errorf("ECR after ClearFaults: %v", err)
	}
}

func TestBareActionNameMatchesEveryService(t *testing.T) {
	srv, _, c := start(t)
	srv.Inject(AccessDenied, "GetAuthorizationToken", Forever)
	for _, tg := range []target{ecrTarget, ecrPublicTarget} {
		if err := tg.call(testCtx(t), c); errorCode(err) != "AccessDeniedException" {
			t.Errorf("%s: error %v, want AccessDeniedException", tg.action, err)
		}
	}
	if n := srv.CallCount("GetAuthorizationToken"); n != 2 {
		t.Errorf("CallCount(GetAuthorizationToken) = %d, want 2", n)
	}
}

func TestHangCutByContext(t *testing.T) {
	srv, _, c := start(t)
	srv.Inject(Hang, ECRGetAuthorizationToken, 1)
	ctx, cancel := context.WithTimeout(testCtx(t), 200*time.Millisecond)
	defer cancel()
	// The hang lasts until the client gives up: an answer that wraps
	// the deadline's error is the deadline cutting it.
	began := time.Now()
	err := ecrTarget.call(ctx, c)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hung call: error %v, want context.DeadlineExceeded", err)
	}
	t.Logf("hung call cut after %v (deadline 200ms)", time.Since(began).Round(time.Millisecond))
	ctx2, cancel2 := context.WithTimeout(testCtx(t), 10*time.Second)
	defer cancel2()
	if err := ecrTarget.call(ctx2, c); err != nil {
		t.Errorf("call after a one-time hang: %v", err)
	}
}

func TestCloseReleasesHungCalls(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	isolate(t)
	srv, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	c := newClients(srv, sdkConfig(t, staticCreds()))
	srv.Inject(Hang, AnyAction, Forever)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, tg := range []target{ecrTarget, assumeRoleTarget} {
		wg.Go(func() { errs <- tg.call(testCtx(t), c) })
	}
	if err := srv.WaitCalls(testCtx(t), AnyAction, 2); err != nil {
		t.Fatal(err)
	}
	if n := srv.Hanging(); n != 2 {
		t.Fatalf("Hanging() = %d with two calls hung", n)
	}
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked on hung calls")
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err == nil {
			t.Error("a hung call succeeded when the server closed")
		}
	}
	if n := srv.Hanging(); n != 0 {
		t.Errorf("Hanging() = %d after Close", n)
	}
}

func TestDenyLists(t *testing.T) {
	srv, _, base := start(t)
	role, _ := assumeRoleClients(t, srv, base, testRole)
	if err := ecrTarget.call(testCtx(t), role); err != nil {
		t.Fatalf("ECR as role before DenyRole: %v", err)
	}
	srv.DenyRole(testRole)
	if err := assumeRoleTarget.call(testCtx(t), base); errorCode(err) != "AccessDenied" {
		t.Errorf("AssumeRole of a denied role: error %v, want AccessDenied", err)
	}
	if err := ecrTarget.call(testCtx(t), role); errorCode(err) != "AccessDeniedException" {
		t.Errorf("ECR with a denied role's keys: error %v, want AccessDeniedException", err)
	}
	if err := ecrTarget.call(testCtx(t), base); err != nil {
		t.Errorf("ECR with other keys: %v", err)
	}
	srv.DenyAccessKey(testKeyID)
	if err := ecrTarget.call(testCtx(t), base); errorCode(err) != "AccessDeniedException" {
		t.Errorf("ECR with a denied key: error %v, want AccessDeniedException", err)
	}
	srv.AllowAll()
	if err := ecrTarget.call(testCtx(t), base); err != nil {
		t.Errorf("ECR after AllowAll: %v", err)
	}
}
