package awsfake

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const testRole = "arn:aws:iam::210987654321:role/path/puller"

// assumeRoleClients returns clients whose credentials come from AssumeRole
// on the fake, as the daemon builds them.
func assumeRoleClients(t *testing.T, srv *Server, base clients, role string) (clients, aws.CredentialsProvider) {
	t.Helper()
	provider := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(base.sts, role,
		func(o *stscreds.AssumeRoleOptions) {
			o.ExternalID = aws.String("ext-42")
			o.RoleSessionName = "ocicred-test"
			o.Duration = 30 * time.Minute
		}))
	return newClients(srv, sdkConfig(t, provider)), provider
}

func TestAssumeRoleThenECR(t *testing.T) {
	srv, clock, base := start(t)
	role, provider := assumeRoleClients(t, srv, base, testRole)
	creds, err := provider.Retrieve(testCtx(t))
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	if !strings.HasPrefix(creds.AccessKeyID, "ASIA") || creds.SecretAccessKey == "" || creds.SessionToken == "" {
		t.Errorf("temporary credentials look wrong: key %q, secret set %v, token set %v",
			creds.AccessKeyID, creds.SecretAccessKey != "", creds.SessionToken != "")
	}
	if want := clock.Now().Add(30 * time.Minute); !creds.Expires.Equal(want) {
		t.Errorf("Expires = %v, want %v", creds.Expires, want)
	}
	if _, err := role.ecr.GetAuthorizationToken(testCtx(t), &ecr.GetAuthorizationTokenInput{}); err != nil {
		t.Fatalf("GetAuthorizationToken with role keys: %v", err)
	}
	calls := srv.Calls()
	if len(calls) != 2 {
		t.Fatalf("recorded %d calls, want 2: %+v", len(calls), calls)
	}
	ar, tok := calls[0], calls[1]
	if ar.Action != "AssumeRole" || ar.RoleArn != testRole || ar.ExternalID != "ext-42" ||
		ar.RoleSessionName != "ocicred-test" || ar.DurationSeconds != 1800 || ar.AccessKeyID != testKeyID {
		t.Errorf("AssumeRole record = %+v", ar)
	}
	if tok.AccessKeyID != creds.AccessKeyID || tok.RoleArn != testRole || tok.Region != testRegion ||
		tok.Principal != "arn:aws:sts::210987654321:assumed-role/puller/ocicred-test" {
		t.Errorf("ECR call not attributed to the role: %+v", tok)
	}
}

func TestAssumeRoleDefaultDuration(t *testing.T) {
	_, clock, c := start(t)
	out, err := c.sts.AssumeRole(testCtx(t), &sts.AssumeRoleInput{
		RoleArn: aws.String(testRole), RoleSessionName: aws.String("s1")})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	if want := clock.Now().Add(time.Hour); !aws.ToTime(out.Credentials.Expiration).Equal(want) {
		t.Errorf("Expiration = %v, want %v", aws.ToTime(out.Credentials.Expiration), want)
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::210987654321:assumed-role/puller/s1" {
		t.Errorf("AssumedRoleUser.Arn = %q", got)
	}
}

func TestAssumeRoleValidation(t *testing.T) {
	tests := []struct {
		name     string
		role     string
		session  string
		duration int32
	}{
		{"bad role arn", "puller", "s1", 0},
		{"empty session name", testRole, "", 0},
		{"bad session name", testRole, "no spaces", 0},
		{"too short", testRole, "s1", 899},
		{"too long", testRole, "s1", 43201},
	}
	_, _, c := start(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &sts.AssumeRoleInput{RoleArn: aws.String(tt.role), RoleSessionName: aws.String(tt.session)}
			if tt.duration != 0 {
				in.DurationSeconds = aws.Int32(tt.duration)
			}
			_, err := c.sts.AssumeRole(testCtx(t), in)
			if code := errorCode(err); code != "ValidationError" {
				t.Errorf("error %v (code %q), want ValidationError", err, code)
			}
		})
	}
}

func TestChainedRoleCappedAtOneHour(t *testing.T) {
	srv, _, base := start(t)
	role, _ := assumeRoleClients(t, srv, base, testRole)
	in := &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::210987654321:role/next"),
		RoleSessionName: aws.String("chain"), DurationSeconds: aws.Int32(7200)}
	if _, err := role.sts.AssumeRole(testCtx(t), in); errorCode(err) != "ValidationError" {
		t.Errorf("chained 2h AssumeRole: error %v, want ValidationError", err)
	}
	in.DurationSeconds = aws.Int32(3600)
	if _, err := role.sts.AssumeRole(testCtx(t), in); err != nil {
		t.Errorf("chained 1h AssumeRole: %v", err)
	}
	// Long-term keys may ask for 2h.
	in.DurationSeconds = aws.Int32(7200)
	if _, err := base.sts.AssumeRole(testCtx(t), in); err != nil {
		t.Errorf("2h AssumeRole with long-term keys: %v", err)
	}
}

func TestGetCallerIdentity(t *testing.T) {
	srv, _, base := start(t, WithAccount("555555555555"))
	out, err := base.sts.GetCallerIdentity(testCtx(t), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if aws.ToString(out.Account) != "555555555555" || !strings.HasPrefix(aws.ToString(out.Arn), "arn:aws:iam::555555555555:user/") {
		t.Errorf("static identity = %s %s", aws.ToString(out.Account), aws.ToString(out.Arn))
	}
	role, _ := assumeRoleClients(t, srv, base, testRole)
	out, err = role.sts.GetCallerIdentity(testCtx(t), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity as role: %v", err)
	}
	if aws.ToString(out.Account) != "210987654321" ||
		aws.ToString(out.Arn) != "arn:aws:sts::210987654321:assumed-role/puller/ocicred-test" ||
		!strings.HasSuffix(aws.ToString(out.UserId), ":ocicred-test") {
		t.Errorf("role identity = %s %s %s", aws.ToString(out.Account), aws.ToString(out.Arn), aws.ToString(out.UserId))
	}
}

type staticToken string

func (s staticToken) GetIdentityToken() ([]byte, error) { return []byte(s), nil }

func TestAssumeRoleWithWebIdentity(t *testing.T) {
	srv, _, base := start(t)
	jwt := staticToken(fakeJWT(`{"sub":"system:serviceaccount:ns:sa","aud":["sts.amazonaws.com"],"iss":"https://oidc.example"}`))
	provider := stscreds.NewWebIdentityRoleProvider(base.sts, testRole, jwt,
		func(o *stscreds.WebIdentityRoleOptions) { o.RoleSessionName = "irsa" })
	creds, err := provider.Retrieve(testCtx(t))
	if err != nil {
		t.Fatalf("AssumeRoleWithWebIdentity: %v", err)
	}
	if !strings.HasPrefix(creds.AccessKeyID, "ASIA") {
		t.Errorf("AccessKeyID = %q, want ASIA…", creds.AccessKeyID)
	}
	got := srv.Calls()[0]
	if got.Action != "AssumeRoleWithWebIdentity" || got.RoleArn != testRole || got.RoleSessionName != "irsa" || got.AccessKeyID != "" {
		t.Errorf("call record = %+v", got)
	}
	out, err := base.sts.AssumeRoleWithWebIdentity(testCtx(t), &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(testRole), RoleSessionName: aws.String("irsa"), WebIdentityToken: aws.String(string(jwt))})
	if err != nil {
		t.Fatalf("AssumeRoleWithWebIdentity: %v", err)
	}
	if aws.ToString(out.SubjectFromWebIdentityToken) != "system:serviceaccount:ns:sa" ||
		aws.ToString(out.Audience) != "sts.amazonaws.com" || aws.ToString(out.Provider) != "https://oidc.example" {
		t.Errorf("claims echoed wrong: %q %q %q", aws.ToString(out.SubjectFromWebIdentityToken),
			aws.ToString(out.Audience), aws.ToString(out.Provider))
	}
	bad := stscreds.NewWebIdentityRoleProvider(base.sts, testRole, staticToken("not-a-jwt"))
	if _, err := bad.Retrieve(testCtx(t)); errorCode(err) != "InvalidIdentityToken" {
		t.Errorf("non-JWT token: error %v, want InvalidIdentityToken", err)
	}
}

func TestTemporaryKeyNeedsItsSessionToken(t *testing.T) {
	srv, _, base := start(t)
	out, err := base.sts.AssumeRole(testCtx(t), &sts.AssumeRoleInput{
		RoleArn: aws.String(testRole), RoleSessionName: aws.String("s1")})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	wrong := credentials.NewStaticCredentialsProvider(aws.ToString(out.Credentials.AccessKeyId),
		aws.ToString(out.Credentials.SecretAccessKey), "wrong-session-token")
	c := newClients(srv, sdkConfig(t, wrong))
	_, err = c.ecr.GetAuthorizationToken(testCtx(t), &ecr.GetAuthorizationTokenInput{})
	if code := errorCode(err); code != "UnrecognizedClientException" {
		t.Errorf("ECR with wrong session token: error %v (code %q), want UnrecognizedClientException", err, code)
	}
	_, err = c.sts.GetCallerIdentity(testCtx(t), &sts.GetCallerIdentityInput{})
	if code := errorCode(err); code != "InvalidClientTokenId" {
		t.Errorf("STS with wrong session token: error %v (code %q), want InvalidClientTokenId", err, code)
	}
}

func TestKeyExpiry(t *testing.T) {
	srv, clock, base := start(t, WithKeyExpiry())
	out, err := base.sts.AssumeRole(testCtx(t), &sts.AssumeRoleInput{
		RoleArn: aws.String(testRole), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	k := out.Credentials
	c := newClients(srv, sdkConfig(t, credentials.NewStaticCredentialsProvider(
		aws.ToString(k.AccessKeyId), aws.ToString(k.SecretAccessKey), aws.ToString(k.SessionToken))))
	if _, err := c.ecr.GetAuthorizationToken(testCtx(t), &ecr.GetAuthorizationTokenInput{}); err != nil {
		t.Fatalf("ECR with fresh role keys: %v", err)
	}
	clock.Advance(15 * time.Minute)
	_, err = c.ecr.GetAuthorizationToken(testCtx(t), &ecr.GetAuthorizationTokenInput{})
	if code := errorCode(err); code != "ExpiredTokenException" {
		t.Errorf("ECR with expired role keys: error %v (code %q), want ExpiredTokenException", err, code)
	}
}

func TestUnsignedCallsRefused(t *testing.T) {
	srv, _, _ := start(t)
	c := newClients(srv, sdkConfig(t, aws.AnonymousCredentials{}))
	_, err := c.ecr.GetAuthorizationToken(testCtx(t), &ecr.GetAuthorizationTokenInput{})
	if code := errorCode(err); code != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned ECR call: error %v (code %q)", err, code)
	}
	_, err = c.sts.GetCallerIdentity(testCtx(t), &sts.GetCallerIdentityInput{})
	if code := errorCode(err); code != "MissingAuthenticationToken" {
		t.Errorf("unsigned STS call: error %v (code %q)", err, code)
	}
	if got := srv.Calls()[0]; got.AccessKeyID != "" || got.ErrorCode != "MissingAuthenticationTokenException" {
		t.Errorf("call record = %+v", got)
	}
}
