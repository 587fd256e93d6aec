package awsfake

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
)

func TestECRGetAuthorizationToken(t *testing.T) {
	srv, clock, c := start(t)
	out, err := c.ecr.GetAuthorizationToken(testCtx(t), &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatalf("GetAuthorizationToken: %v", err)
	}
	if len(out.AuthorizationData) != 1 {
		t.Fatalf("got %d authorizationData, want 1", len(out.AuthorizationData))
	}
	d := out.AuthorizationData[0]
	user, pass := decodeToken(t, aws.ToString(d.AuthorizationToken))
	if user != "AWS" || !srv.ValidToken(user, pass) {
		t.Errorf("token user %q, valid %v; want AWS and valid", user, srv.ValidToken(user, pass))
	}
	if want := clock.Now().Add(12 * time.Hour); !aws.ToTime(d.ExpiresAt).Equal(want) {
		t.Errorf("expiresAt = %v, want %v", aws.ToTime(d.ExpiresAt), want)
	}
	if got, want := aws.ToString(d.ProxyEndpoint), "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com"; got != want {
		t.Errorf("proxyEndpoint = %q, want %q", got, want)
	}
	calls := srv.Calls()
	if len(calls) != 1 {
		t.Fatalf("recorded %d calls, want 1", len(calls))
	}
	got := calls[0]
	if got.Service != "ecr" || got.Action != "GetAuthorizationToken" || got.AccessKeyID != testKeyID ||
		got.Region != testRegion || !got.Time.Equal(clock.Now()) || got.ErrorCode != "" {
		t.Errorf("call record = %+v", got)
	}
}

func TestECRTokenPerRegistryID(t *testing.T) {
	srv, _, c := start(t)
	ids := []string{"111111111111", "222222222222"}
	out, err := c.ecr.GetAuthorizationToken(testCtx(t), registryIDsInput(ids...))
	if err != nil {
		t.Fatalf("GetAuthorizationToken: %v", err)
	}
	if len(out.AuthorizationData) != len(ids) {
		t.Fatalf("got %d authorizationData, want %d", len(out.AuthorizationData), len(ids))
	}
	seen := map[string]bool{}
	for i, d := range out.AuthorizationData {
		want := "https://" + ids[i] + ".dkr.ecr.eu-west-1.amazonaws.com"
		if got := aws.ToString(d.ProxyEndpoint); got != want {
			t.Errorf("proxyEndpoint[%d] = %q, want %q", i, got, want)
		}
		_, pass := decodeToken(t, aws.ToString(d.AuthorizationToken))
		if seen[pass] {
			t.Errorf("password %d repeats an earlier one", i)
		}
		seen[pass] = true
	}
	if got := srv.Calls()[0].RegistryIDs; len(got) != 2 || got[1] != ids[1] {
		t.Errorf("recorded registryIds %v, want %v", got, ids)
	}
	_, err = c.ecr.GetAuthorizationToken(testCtx(t), registryIDsInput("12"))
	if code := errorCode(err); code != "InvalidParameterException" {
		t.Errorf("bad registry id: error %v (code %q), want InvalidParameterException", err, code)
	}
}

func TestECRFreshTokenPerCall(t *testing.T) {
	_, _, c := start(t)
	var passes []string
	for range 2 {
		out, err := c.ecr.GetAuthorizationToken(testCtx(t), &ecr.GetAuthorizationTokenInput{})
		if err != nil {
			t.Fatalf("GetAuthorizationToken: %v", err)
		}
		_, pass := decodeToken(t, aws.ToString(out.AuthorizationData[0].AuthorizationToken))
		passes = append(passes, pass)
	}
	if passes[0] == passes[1] || len(passes[0]) < 32 {
		t.Errorf("passwords not fresh and random: lengths %d, equal %v", len(passes[0]), passes[0] == passes[1])
	}
}

func TestECRTokenLifetimeOption(t *testing.T) {
	_, clock, c := start(t, WithTokenLifetime(time.Hour), WithProxyEndpoint("https://front.example"))
	out, err := c.ecr.GetAuthorizationToken(testCtx(t), &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatalf("GetAuthorizationToken: %v", err)
	}
	d := out.AuthorizationData[0]
	if want := clock.Now().Add(time.Hour); !aws.ToTime(d.ExpiresAt).Equal(want) {
		t.Errorf("expiresAt = %v, want %v", aws.ToTime(d.ExpiresAt), want)
	}
	if got := aws.ToString(d.ProxyEndpoint); got != "https://front.example" {
		t.Errorf("proxyEndpoint = %q, want the configured one", got)
	}
}

func TestECRPublicGetAuthorizationToken(t *testing.T) {
	srv, clock, c := start(t)
	out, err := c.ecrPublic.GetAuthorizationToken(testCtx(t), &ecrpublic.GetAuthorizationTokenInput{},
		func(o *ecrpublic.Options) { o.Region = "us-east-1" })
	if err != nil {
		t.Fatalf("GetAuthorizationToken: %v", err)
	}
	d := out.AuthorizationData
	if d == nil {
		t.Fatal("no authorizationData")
	}
	user, pass := decodeToken(t, aws.ToString(d.AuthorizationToken))
	if !srv.ValidToken(user, pass) {
		t.Error("ECR Public token is not valid on the fake")
	}
	if want := clock.Now().Add(12 * time.Hour); !aws.ToTime(d.ExpiresAt).Equal(want) {
		t.Errorf("expiresAt = %v, want %v", aws.ToTime(d.ExpiresAt), want)
	}
	if n := srv.CallCount(ECRPublicGetAuthorizationToken); n != 1 {
		t.Errorf("CallCount(ecr-public) = %d, want 1", n)
	}
	if n := srv.CallCount(ECRGetAuthorizationToken); n != 0 {
		t.Errorf("CallCount(ecr) = %d, want 0", n)
	}
	if got := srv.Calls()[0]; got.Service != "ecr-public" || got.Region != "us-east-1" {
		t.Errorf("call record = %+v, want ecr-public in us-east-1", got)
	}
}

// registryIDsInput asks for tokens for registry ids: deprecated in the API,
// but callers still send it, so the fake answers it.
func registryIDsInput(ids ...string) *ecr.GetAuthorizationTokenInput {
	//lint:ignore SA1019 the fake must answer clients that still send registryIds
	return &ecr.GetAuthorizationTokenInput{RegistryIds: ids}
}
