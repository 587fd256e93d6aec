package ecrtoken

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/test/awsfake"
)

// ecrHostForms is every ECR registry host form the config accepts, with
// the region whose API must issue its token.
var ecrHostForms = []struct {
	name, host, region string
	public             bool
}{
	{"commercial", "123456789012.dkr.ecr.us-west-2.amazonaws.com", "us-west-2", false},
	{"China", "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "cn-north-1", false},
	{"GovCloud", "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com", "us-gov-west-1", false},
	{"ISO", "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", "us-iso-east-1", false},
	{"ISO-B", "123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1", false},
	{"FIPS", "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", "us-east-1", false},
	{"FIPS GovCloud", "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1", false},
	{"dual-stack", "123456789012.dkr-ecr.eu-west-1.on.aws", "eu-west-1", false},
	{"dual-stack FIPS", "123456789012.dkr-ecr-fips.us-east-2.on.aws", "us-east-2", false},
	{"dual-stack China", "123456789012.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn", "cn-northwest-1", false},
	{"ECR Public", "public.ecr.aws", "us-east-1", true},
	{"ECR Public, other name", "ecr-public.aws.com", "us-east-1", true},
}

// TestHostFormsThroughFake: every host form gets a token through the fake,
// signed for the right region and from the right API.
func TestHostFormsThroughFake(t *testing.T) {
	for _, tt := range ecrHostForms {
		t.Run(tt.name, func(t *testing.T) {
			srv := startFake(t)
			reg := secretRegistry(t, tt.host)
			tok, err := NewFetcher().Fetch(testCtx(t), reg)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if !srv.ValidToken("AWS", tok.Password.Reveal()) {
				t.Error("token not valid")
			}
			calls := srv.Calls()
			if len(calls) != 1 {
				t.Fatalf("%d calls, want 1: %+v", len(calls), calls)
			}
			c := calls[0]
			service := "ecr"
			if tt.public {
				service = "ecr-public"
			}
			if c.Service != service || c.Action != "GetAuthorizationToken" || c.Region != tt.region || c.AccessKeyID != testKeyID {
				t.Errorf("call = %s:%s in %s by %s, want %s:GetAuthorizationToken in %s by %s",
					c.Service, c.Action, c.Region, c.AccessKeyID, service, tt.region, testKeyID)
			}
		})
	}
}

// cannedAWS answers every request itself, without the network, and
// remembers where the SDK sent it and how it was signed.
type cannedAWS struct {
	mu    sync.Mutex
	urls  []string
	auths []string
	// answer is the body of the (200) answer; nil: a well-formed token.
	answer func(public bool) string
}

func (c *cannedAWS) Do(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.urls = append(c.urls, r.URL.String())
	c.auths = append(c.auths, r.Header.Get("Authorization"))
	c.mu.Unlock()
	public := strings.HasPrefix(r.Header.Get("X-Amz-Target"), "SpencerFrontendService.")
	body := goodAnswer(public)
	if c.answer != nil {
		body = c.answer(public)
	}
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  http.Header{"Content-Type": {"application/x-amz-json-1.1"}},
		Body:    io.NopCloser(bytes.NewReader([]byte(body))),
		Request: r,
	}, nil
}

const cannedPassword = "canned-registry-password-must-not-leak"

func tokenAnswer(public bool, token string, expiresAt string) string {
	data := `{"authorizationToken":"` + token + `"` + expiresAt + `}`
	if public {
		return `{"authorizationData":` + data + `}`
	}
	return `{"authorizationData":[` + data + `]}`
}

func goodAnswer(public bool) string {
	return tokenAnswer(public, base64.StdEncoding.EncodeToString([]byte("AWS:"+cannedPassword)), expiresIn(12*time.Hour))
}

func expiresIn(d time.Duration) string {
	return fmt.Sprintf(`,"expiresAt":%d`, time.Now().Add(d).Unix())
}

// TestSDKEndpointHosts: without endpoint URLs in the environment, the SDK
// sends each host form's call to the real AWS API host of its partition,
// FIPS and dual-stack included, signed for the right region and service.
// Nothing leaves the machine: the HTTP client answers itself, the keys are
// static and IMDS is off.
func TestSDKEndpointHosts(t *testing.T) {
	want := map[string]string{
		"commercial":             "api.ecr.us-west-2.amazonaws.com",
		"China":                  "api.ecr.cn-north-1.amazonaws.com.cn",
		"GovCloud":               "api.ecr.us-gov-west-1.amazonaws.com",
		"ISO":                    "api.ecr.us-iso-east-1.c2s.ic.gov",
		"ISO-B":                  "api.ecr.us-isob-east-1.sc2s.sgov.gov",
		"FIPS":                   "api.ecr-fips.us-east-1.amazonaws.com",
		"FIPS GovCloud":          "api.ecr-fips.us-gov-west-1.amazonaws.com",
		"dual-stack":             "ecr.eu-west-1.api.aws",
		"dual-stack FIPS":        "ecr-fips.us-east-2.api.aws",
		"dual-stack China":       "ecr.cn-northwest-1.api.amazonwebservices.com.cn",
		"ECR Public":             "api.ecr-public.us-east-1.amazonaws.com",
		"ECR Public, other name": "api.ecr-public.us-east-1.amazonaws.com",
	}
	for _, tt := range ecrHostForms {
		t.Run(tt.name, func(t *testing.T) {
			clearAWSEnv(t)
			service := "ecr"
			if tt.public {
				service = "ecr-public"
			}
			hc := &cannedAWS{}
			f := NewFetcher()
			f.HTTPClient = hc
			tok, err := f.Fetch(testCtx(t), secretRegistry(t, tt.host))
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if tok.Password.Reveal() != cannedPassword {
				t.Error("token not decoded")
			}
			if len(hc.urls) != 1 {
				t.Fatalf("%d requests, want 1: %v", len(hc.urls), hc.urls)
			}
			if got := hc.urls[0]; got != "https://"+want[tt.name]+"/" {
				t.Errorf("SDK called %s, want https://%s/", got, want[tt.name])
			}
			scope := "/" + tt.region + "/" + service + "/aws4_request"
			if a := hc.auths[0]; !strings.Contains(a, "Credential="+testKeyID+"/") || !strings.Contains(a, scope) {
				t.Errorf("signed %q, want key %s and scope …%s", a, testKeyID, scope)
			}
		})
	}
}

// TestCustomEndpointAndFIPS: a VPC endpoint in AWS_ENDPOINT_URL_ECR wins
// over a FIPS or dual-stack host (the SDK refuses both at once), unless
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS says to ignore it.
func TestCustomEndpointAndFIPS(t *testing.T) {
	const vpce = "https://vpce-0a1b2c3d.api.ecr.us-east-1.vpce.amazonaws.com"
	tests := []struct {
		name, host, env, ignore, want string
	}{
		{"FIPS host, ECR endpoint URL", "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", "AWS_ENDPOINT_URL_ECR", "", vpce + "/"},
		{"dual-stack host, ECR endpoint URL", "123456789012.dkr-ecr.us-east-1.on.aws", "AWS_ENDPOINT_URL_ECR", "", vpce + "/"},
		{"FIPS host, global endpoint URL", "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", "AWS_ENDPOINT_URL", "", vpce + "/"},
		{"FIPS host, endpoint URL ignored", "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", "AWS_ENDPOINT_URL_ECR", "true",
			"https://api.ecr-fips.us-east-1.amazonaws.com/"},
		{"public host, ECR Public endpoint URL", "public.ecr.aws", "AWS_ENDPOINT_URL_ECR_PUBLIC", "", vpce + "/"},
		// ECR's endpoint URL is not ECR Public's.
		{"public host, ECR endpoint URL", "public.ecr.aws", "AWS_ENDPOINT_URL_ECR", "", "https://api.ecr-public.us-east-1.amazonaws.com/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearAWSEnv(t)
			t.Setenv(tt.env, vpce)
			if tt.ignore != "" {
				t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", tt.ignore)
			}
			hc := &cannedAWS{}
			f := NewFetcher()
			f.HTTPClient = hc
			if _, err := f.Fetch(testCtx(t), secretRegistry(t, tt.host)); err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if len(hc.urls) != 1 || hc.urls[0] != tt.want {
				t.Errorf("SDK called %v, want %s", hc.urls, tt.want)
			}
		})
	}
}

// TestMalformedAnswers: an answer without a usable token is an error that
// does not repeat the token.
func TestMalformedAnswers(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name, want string
		answer     func(public bool) string
	}{
		{"no token", "returned no token", func(public bool) string {
			if public {
				return `{}`
			}
			return `{"authorizationData":[]}`
		}},
		{"not base64", "not base64", func(p bool) string { return tokenAnswer(p, "%%"+cannedPassword, expiresIn(time.Hour)) }},
		{"no colon", "not AWS:password", func(p bool) string { return tokenAnswer(p, b64("AWS"+cannedPassword), expiresIn(time.Hour)) }},
		{"other user", "not AWS:password", func(p bool) string { return tokenAnswer(p, b64("bob:"+cannedPassword), expiresIn(time.Hour)) }},
		{"empty password", "not AWS:password", func(p bool) string { return tokenAnswer(p, b64("AWS:"), expiresIn(time.Hour)) }},
		{"no expiry", "no expiry", func(p bool) string { return tokenAnswer(p, b64("AWS:"+cannedPassword), "") }},
	}
	for _, tt := range tests {
		for _, host := range []string{testHost, "public.ecr.aws"} {
			t.Run(tt.name+" "+host, func(t *testing.T) {
				clearAWSEnv(t)
				f := NewFetcher()
				f.HTTPClient = &cannedAWS{answer: tt.answer}
				_, err := f.Fetch(testCtx(t), secretRegistry(t, host))
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("Fetch: %v, want an error saying %q", err, tt.want)
				}
				if strings.Contains(fmt.Sprintf("%v %+v", err, err), cannedPassword) {
					t.Errorf("error holds the token: %v", err)
				}
			})
		}
	}
}

// TestSecretsNotInErrors: whatever fails, no error names a secret key, a
// session token or a registry token.
func TestSecretsNotInErrors(t *testing.T) {
	srv := startFake(t)
	sniff := &tokenSniffer{}
	f := NewFetcher()
	f.HTTPClient = sniff
	sts := stsRegistry(t)
	static := secretRegistry(t, "123456789012.dkr.ecr.eu-west-1.amazonaws.com")

	var tokens []string
	for _, reg := range []*config.Registry{sts, static} {
		tok, err := f.Fetch(testCtx(t), reg)
		if err != nil {
			t.Fatalf("Fetch %s: %v", reg.Name, err)
		}
		tokens = append(tokens, tok.Password.Reveal())
		if s := fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok.Password); strings.Contains(s, tokens[len(tokens)-1]) {
			t.Errorf("a printed token shows its password: %s", s)
		}
	}

	var errs []error
	fail := func(setup func(), reg *config.Registry) {
		srv.ClearFaults()
		srv.AllowAll()
		setup()
		f := NewFetcher() // no session cached: STS faults count too
		f.HTTPClient = sniff
		_, err := f.Fetch(testCtx(t), reg)
		if err == nil {
			t.Errorf("Fetch %s succeeded", reg.Name)
			return
		}
		errs = append(errs, err)
	}
	for _, reg := range []*config.Registry{sts, static} {
		for _, fault := range []awsfake.Fault{awsfake.AccessDenied, awsfake.ExpiredCredentials, awsfake.ServerError, awsfake.ThrottleException} {
			fail(func() { srv.Inject(fault, awsfake.ECRGetAuthorizationToken, awsfake.Forever) }, reg)
		}
	}
	fail(func() { srv.DenyRole(testRoleA) }, sts)
	fail(func() { srv.Inject(awsfake.AccessDenied, awsfake.STSAssumeRole, awsfake.Forever) }, sts)
	fail(func() { srv.DenyAccessKey(testKeyID) }, static)

	if len(sniff.Tokens()) == 0 {
		t.Fatal("no session token seen: the sts registry did not use its role")
	}
	secrets := append([]string{testSecret}, tokens...)
	secrets = append(secrets, sniff.Tokens()...)
	for _, err := range errs {
		text := fmt.Sprintf("%v\n%+v", err, err)
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("error holds a secret (%.6s…): %s", s, text)
			}
		}
	}
}
