package awsfake

import (
	"bytes"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestEnvRoutesTheSDK(t *testing.T) {
	isolate(t)
	srv := Start(t, WithKey(testKeyID, testSecret))
	srv.Setenv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", testKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	t.Setenv("AWS_REGION", "ap-south-1")
	cfg, err := config.LoadDefaultConfig(testCtx(t))
	if err != nil {
		t.Fatalf("LoadDefaultConfig with Env: %v", err)
	}
	ctx := testCtx(t)
	if _, err := ecr.NewFromConfig(cfg).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{}); err != nil {
		t.Errorf("ECR through AWS_ENDPOINT_URL_ECR: %v", err)
	}
	if _, err := ecrpublic.NewFromConfig(cfg).GetAuthorizationToken(ctx, &ecrpublic.GetAuthorizationTokenInput{}); err != nil {
		t.Errorf("ECR Public through AWS_ENDPOINT_URL_ECR_PUBLIC: %v", err)
	}
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("STS through AWS_ENDPOINT_URL_STS: %v", err)
	}
	if n := srv.CallCount(AnyAction); n != 3 {
		t.Errorf("fake saw %d calls, want 3", n)
	}
	if got := srv.Calls()[0].Region; got != "ap-south-1" {
		t.Errorf("region %q, want ap-south-1", got)
	}
}

func TestEnvFiles(t *testing.T) {
	srv, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	env := map[string]string{}
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for _, k := range []string{"AWS_ENDPOINT_URL_ECR", "AWS_ENDPOINT_URL_ECR_PUBLIC", "AWS_ENDPOINT_URL_STS"} {
		if env[k] != srv.URL {
			t.Errorf("%s = %q, want %q", k, env[k], srv.URL)
		}
	}
	if env["AWS_EC2_METADATA_DISABLED"] != "true" {
		t.Errorf("AWS_EC2_METADATA_DISABLED = %q", env["AWS_EC2_METADATA_DISABLED"])
	}
	for _, k := range []string{"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"} {
		fi, err := os.Stat(env[k])
		if err != nil || fi.Size() != 0 {
			t.Errorf("%s = %q: want an empty file (err %v)", k, env[k], err)
		}
	}
	srv.Close()
	srv.Close() // a second Close is harmless
	if _, err := os.Stat(env["AWS_CONFIG_FILE"]); !os.IsNotExist(err) {
		t.Errorf("config file left behind after Close: %v", err)
	}
}

func TestConcurrentCallsAndSwitches(t *testing.T) {
	srv, _, c := start(t)
	const workers, each = 8, 5
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				if err := ecrTarget.call(testCtx(t), c); err != nil {
					t.Errorf("concurrent call: %v", err)
				}
			}
		})
	}
	wg.Go(func() { // flip switches and read records while calls run
		for range 50 {
			srv.Inject(ThrottleException, STSAssumeRole, 1)
			srv.DenyRole(testRole)
			_ = srv.Calls()
			_ = srv.CallCount(ECRGetAuthorizationToken)
			srv.AllowAll()
		}
	})
	wg.Wait()
	if n := srv.CallCount(ECRGetAuthorizationToken); n != workers*each {
		t.Errorf("CallCount = %d, want %d", n, workers*each)
	}
	srv.Reset()
	if n := len(srv.Calls()); n != 0 {
		t.Errorf("%d calls after Reset", n)
	}
}

func TestCallsReturnsACopy(t *testing.T) {
	srv, _, c := start(t)
	if _, err := c.ecr.GetAuthorizationToken(testCtx(t),
		registryIDsInput("111111111111")); err != nil {
		t.Fatal(err)
	}
	calls := srv.Calls()
	calls[0].RegistryIDs[0] = "changed"
	calls[0].Action = "changed"
	if got := srv.Calls()[0]; got.Action != "GetAuthorizationToken" || got.RegistryIDs[0] != "111111111111" {
		t.Errorf("Calls shares memory with the server: %+v", got)
	}
}

func TestLogsHoldNoSecrets(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	srv, _, base := start(t, WithLogger(slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))))
	role, provider := assumeRoleClients(t, srv, base, testRole)
	creds, err := provider.Retrieve(testCtx(t))
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	out, err := role.ecr.GetAuthorizationToken(testCtx(t), &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatalf("GetAuthorizationToken: %v", err)
	}
	_, pass := decodeToken(t, aws.ToString(out.AuthorizationData[0].AuthorizationToken))
	mu.Lock()
	text := logs.String()
	mu.Unlock()
	if strings.Count(text, "\n") < 2 {
		t.Fatalf("expected a log line per call, got %q", text)
	}
	for name, secret := range map[string]string{"static secret": testSecret, "role secret": creds.SecretAccessKey,
		"session token": creds.SessionToken, "registry password": pass,
		"authorization token": aws.ToString(out.AuthorizationData[0].AuthorizationToken)} {
		if strings.Contains(text, secret) {
			t.Errorf("logs contain the %s", name)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestParseSigV4(t *testing.T) {
	tests := []struct {
		header string
		want   sigV4
	}{
		{"AWS4-HMAC-SHA256 Credential=AKID/20300102/eu-west-1/ecr/aws4_request, SignedHeaders=host;x-amz-date, Signature=ab",
			sigV4{sigV4Algorithm, "AKID", "20300102", "eu-west-1", "ecr", "aws4_request", "host;x-amz-date", "ab"}},
		{"AWS4-HMAC-SHA256 Credential=AKID/20300102/us-east-1/sts/aws4_request,SignedHeaders=host",
			sigV4{sigV4Algorithm, "AKID", "20300102", "us-east-1", "sts", "aws4_request", "host", ""}},
		{"AWS4-HMAC-SHA256 Credential=AKID/20300102/ecr/aws4_request, Signature=ab",
			sigV4{algorithm: sigV4Algorithm, signature: "ab"}},
		{"Basic QVdTOnBhc3M=", sigV4{algorithm: "Basic"}},
		{"", sigV4{}},
	}
	for _, tt := range tests {
		if got := parseSigV4(tt.header); got != tt.want {
			t.Errorf("parseSigV4(%q) = %+v; want %+v", tt.header, got, tt.want)
		}
	}
}

func TestValidToken(t *testing.T) {
	clock := newClock()
	srv := Start(t, WithNow(clock.Now), WithTokenLifetime(time.Minute))
	tok, _ := srv.issueToken("ecr", "arn:aws:iam::123456789012:user/x", "eu-west-1")
	user, pass := decodeToken(t, tok)
	if !srv.ValidToken(user, pass) || !srv.ValidAuthorization("Basic "+tok) {
		t.Fatal("fresh token rejected")
	}
	if srv.ValidToken("aws", pass) || srv.ValidToken(user, pass+"x") || srv.ValidToken(user, "") {
		t.Error("ValidToken accepts a wrong user or password")
	}
	clock.Advance(time.Minute)
	if srv.ValidToken(user, pass) {
		t.Error("ValidToken accepts a token at its expiry")
	}
}

func TestFaultString(t *testing.T) {
	for f, want := range map[Fault]string{NoFault: "", Hang: "Hang", ThrottleException: "ThrottleException", Fault(99): "Fault(?)"} {
		if got := f.String(); got != want {
			t.Errorf("Fault(%d).String() = %q, want %q", int(f), got, want)
		}
	}
}
