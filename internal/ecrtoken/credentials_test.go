package ecrtoken

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocicred/ocicred/test/awsfake"
)

// writeProfile points the SDK at shared config files holding profile dev,
// whose region differs from the registry's (the registry's must win), and
// whose key is profileKeyID with secret devSecret.
func writeProfile(t *testing.T, devSecret string) {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config")
	cred := filepath.Join(dir, "credentials")
	if err := os.WriteFile(cfg, []byte("[profile dev]\nregion = eu-north-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	body := "[default]\naws_access_key_id = AKIAOCICREDWRONGPROF\naws_secret_access_key = wrong\n" +
		"[dev]\naws_access_key_id = " + profileKeyID + "\naws_secret_access_key = " + devSecret + "\n"
	if err := os.WriteFile(cred, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", cfg)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", cred)
}

func setEnvKeys(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", envKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", envSecret)
}

// TestCredentialTypes fetches a token with every credentials type through
// the real SDK and checks who the fake saw signing each call.
func TestCredentialTypes(t *testing.T) {
	type assume struct {
		key, role, externalID, session string
		seconds                        int // 0: not checked (the SDK's default)
	}
	tests := []struct {
		name   string
		creds  string // the registry's credentials block, "" for none
		setup  func(t *testing.T)
		assume *assume // the AssumeRole call wanted; nil: no STS call
		ecrKey string  // who signs GetAuthorizationToken; "ASIA": the role's temporary key
	}{
		{
			name:   "secret inline",
			creds:  `{type: secret, accessKeyId: ` + testKeyID + `, secretAccessKey: ` + testSecret + `}`,
			ecrKey: testKeyID,
		},
		{
			name:   "secret from secretAccessKeyEnv",
			creds:  `{type: secret, accessKeyId: ` + testKeyID + `, secretAccessKeyEnv: OCICRED_TEST_SK}`,
			setup:  func(t *testing.T) { t.Setenv("OCICRED_TEST_SK", testSecret) },
			ecrKey: testKeyID,
		},
		{
			name: "sts with base keys, default session name",
			creds: `{type: sts, roleArn: "` + testRoleA + `", externalId: ext-3f1c9a, duration: 1h,
      accessKeyId: ` + testKeyID + `, secretAccessKey: ` + testSecret + `}`,
			assume: &assume{key: testKeyID, role: testRoleA, externalID: "ext-3f1c9a", session: DefaultSessionName, seconds: 3600},
			ecrKey: "ASIA",
		},
		{
			name: "sts with base keys, configured session name",
			creds: `{type: sts, roleArn: "` + testRoleB + `", sessionName: node-7@ci, duration: 15m,
      accessKeyId: ` + testKeyID + `, secretAccessKeyEnv: OCICRED_TEST_SK}`,
			setup:  func(t *testing.T) { t.Setenv("OCICRED_TEST_SK", testSecret) },
			assume: &assume{key: testKeyID, role: testRoleB, session: "node-7@ci", seconds: 900},
			ecrKey: "ASIA",
		},
		{
			name:   "sts with base keys from the default chain",
			creds:  `{type: sts, roleArn: "` + testRoleA + `", externalId: xyz}`,
			setup:  setEnvKeys,
			assume: &assume{key: envKeyID, role: testRoleA, externalID: "xyz", session: DefaultSessionName},
			ecrKey: "ASIA",
		},
		{
			name:   "default chain from the environment",
			creds:  `{type: default}`,
			setup:  setEnvKeys,
			ecrKey: envKeyID,
		},
		{
			name:   "no credentials block is the default chain",
			setup:  setEnvKeys,
			ecrKey: envKeyID,
		},
		{
			// The profile wins over keys in the environment: a per-registry
			// profile is the point of the field.
			name:   "default chain with a profile",
			creds:  `{type: default, profile: dev}`,
			setup:  func(t *testing.T) { setEnvKeys(t); writeProfile(t, profileSecret) },
			ecrKey: profileKeyID,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startFake(t)
			if tt.setup != nil {
				tt.setup(t)
			}
			yaml := "registries:\n  - {name: r, type: ecr, endpoint: " + testHost + "}\n"
			if tt.creds != "" {
				yaml = "registries:\n  - name: r\n    type: ecr\n    endpoint: " + testHost + "\n    credentials: " + tt.creds + "\n"
			}
			reg := registry(t, yaml)
			f := NewFetcher()
			var onCall []string
			f.OnCall = func(api string, err error) { onCall = append(onCall, api) }

			tok, err := f.Fetch(testCtx(t), reg)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if !srv.ValidToken("AWS", tok.Password.Reveal()) {
				t.Error("the fake does not know the token Fetch returned")
			}
			if left := time.Until(tok.ExpiresAt); left < 11*time.Hour || left > 13*time.Hour {
				t.Errorf("token expires in %v, want about 12h", left)
			}
			if len(onCall) != 1 || onCall[0] != "ecr:GetAuthorizationToken" {
				t.Errorf("OnCall saw %v", onCall)
			}

			ars := callsOf(srv, awsfake.STSAssumeRole)
			ecrs := callsOf(srv, awsfake.ECRGetAuthorizationToken)
			if n := len(srv.Calls()); n != len(ars)+len(ecrs) {
				t.Errorf("unexpected calls: %+v", srv.Calls())
			}
			if len(ecrs) != 1 {
				t.Fatalf("%d GetAuthorizationToken calls, want 1: %+v", len(ecrs), srv.Calls())
			}
			ecr := ecrs[0]
			if ecr.Region != "us-west-2" {
				t.Errorf("ECR call signed for region %q, want us-west-2", ecr.Region)
			}
			switch {
			case tt.assume == nil:
				if len(ars) != 0 {
					t.Errorf("AssumeRole called %d times, want none", len(ars))
				}
				if ecr.AccessKeyID != tt.ecrKey || ecr.RoleArn != "" {
					t.Errorf("ECR call signed by %s (role %q), want %s", ecr.AccessKeyID, ecr.RoleArn, tt.ecrKey)
				}
			default:
				if len(ars) != 1 {
					t.Fatalf("AssumeRole called %d times, want 1", len(ars))
				}
				ar, w := ars[0], tt.assume
				if ar.AccessKeyID != w.key || ar.RoleArn != w.role || ar.ExternalID != w.externalID ||
					ar.RoleSessionName != w.session || ar.Region != "us-west-2" || ar.ErrorCode != "" ||
					(w.seconds != 0 && ar.DurationSeconds != w.seconds) {
					t.Errorf("AssumeRole record = %+v\nwant %+v in us-west-2", ar, *w)
				}
				if !strings.HasPrefix(ecr.AccessKeyID, "ASIA") || ecr.RoleArn != w.role ||
					!strings.HasSuffix(ecr.Principal, "/"+w.session) {
					t.Errorf("ECR call not signed with the role's temporary key: %+v", ecr)
				}
			}
		})
	}
}

// TestSTSSessionCached: one AssumeRole serves many fetches, and registries
// that share an identity share its session.
func TestSTSSessionCached(t *testing.T) {
	srv := startFake(t)
	regs := registries(t, `registries:
  - name: a
    type: ecr
    endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com
    credentials: {type: sts, roleArn: "`+testRoleA+`", duration: 15m, accessKeyId: `+testKeyID+`, secretAccessKey: `+testSecret+`}
  - name: b
    type: ecr
    endpoint: 210987654321.dkr.ecr.us-west-2.amazonaws.com
    credentials: {type: sts, roleArn: "`+testRoleA+`", duration: 15m, accessKeyId: `+testKeyID+`, secretAccessKey: `+testSecret+`}
`)
	f := NewFetcher()
	for i := range 4 {
		if _, err := f.Fetch(testCtx(t), regs[i%2]); err != nil {
			t.Fatalf("Fetch %d: %v", i, err)
		}
	}
	if n := srv.CallCount(awsfake.STSAssumeRole); n != 1 {
		t.Errorf("%d AssumeRole calls for 4 fetches, want 1", n)
	}
	ecrs := callsOf(srv, awsfake.ECRGetAuthorizationToken)
	if len(ecrs) != 4 {
		t.Fatalf("%d GetAuthorizationToken calls, want 4", len(ecrs))
	}
	for _, c := range ecrs[1:] {
		if c.AccessKeyID != ecrs[0].AccessKeyID {
			t.Errorf("fetches signed with %s and %s: the session was not reused", ecrs[0].AccessKeyID, c.AccessKeyID)
		}
	}
}

// TestSTSSessionExpiringBeforeECRToken: a 15-minute session is long gone
// when the daemon refreshes a 12-hour ECR token six hours later; the
// refresh must assume the role again, not sign with dead keys.
//
// The SDK's credentials cache reads the wall clock (aws-sdk-go-v2's
// internal sdk.NowTime, which nothing outside the SDK can set), so the
// test cannot move it six hours on. Instead the fake's clock starts 12
// minutes behind the wall clock: the first session then ends, by the wall
// clock, 3 minutes from now, inside the cache's 4-5 minute refresh window,
// which is where the cache stands six hours into a real 15-minute session.
// The fake's clock then jumps six hours, and the fake (WithKeyExpiry)
// refuses the first session's keys from then on.
func TestSTSSessionExpiringBeforeECRToken(t *testing.T) {
	clk := &clock{}
	clk.Set(-12 * time.Minute)
	srv := startFake(t, awsfake.WithNow(clk.Now), awsfake.WithKeyExpiry())
	reg := registry(t, `registries:
  - name: prod
    type: ecr
    endpoint: `+testHost+`
    credentials: {type: sts, roleArn: "`+testRoleA+`", duration: 15m, accessKeyId: `+testKeyID+`, secretAccessKey: `+testSecret+`}
`)
	f := NewFetcher()
	first, err := f.Fetch(testCtx(t), reg)
	if err != nil {
		t.Fatalf("first fetch: %v", err)
	}
	clk.Set(6*time.Hour - 12*time.Minute)
	if !srv.ValidToken("AWS", first.Password.Reveal()) {
		t.Fatal("the first ECR token should outlive the session")
	}
	second, err := f.Fetch(testCtx(t), reg)
	if err != nil {
		t.Fatalf("refresh after the session expired: %v", err)
	}
	if !srv.ValidToken("AWS", second.Password.Reveal()) {
		t.Error("refreshed token not valid")
	}
	ars := callsOf(srv, awsfake.STSAssumeRole)
	ecrs := callsOf(srv, awsfake.ECRGetAuthorizationToken)
	if len(ars) != 2 || len(ecrs) != 2 {
		t.Fatalf("calls: %d AssumeRole, %d GetAuthorizationToken; want 2 and 2: %+v", len(ars), len(ecrs), srv.Calls())
	}
	if ecrs[0].AccessKeyID == ecrs[1].AccessKeyID || ecrs[1].ErrorCode != "" {
		t.Errorf("refresh signed with the expired session: %+v", ecrs[1])
	}
}

// TestExpiredTokenDropsSession: when AWS says the session's keys have
// expired although the cache still trusts them (the node's clock is behind
// AWS's, or the session was cut short), the failed fetch reports it and
// the next fetch assumes the role again instead of failing until the
// cache's own clock catches up.
func TestExpiredTokenDropsSession(t *testing.T) {
	clk := &clock{}
	srv := startFake(t, awsfake.WithNow(clk.Now), awsfake.WithKeyExpiry())
	reg := registry(t, `registries:
  - name: prod
    type: ecr
    endpoint: `+testHost+`
    credentials: {type: sts, roleArn: "`+testRoleA+`", duration: 1h, accessKeyId: `+testKeyID+`, secretAccessKey: `+testSecret+`}
`)
	f := NewFetcher()
	if _, err := f.Fetch(testCtx(t), reg); err != nil {
		t.Fatalf("first fetch: %v", err)
	}
	clk.Set(2 * time.Hour) // AWS's clock is past the session's end; the node's is not
	_, err := f.Fetch(testCtx(t), reg)
	if err == nil || !strings.Contains(err.Error(), "ECR GetAuthorizationToken: ExpiredTokenException") {
		t.Fatalf("fetch with expired keys: %v, want ECR GetAuthorizationToken: ExpiredTokenException", err)
	}
	if _, err := f.Fetch(testCtx(t), reg); err != nil {
		t.Fatalf("fetch after ExpiredTokenException: %v", err)
	}
	if n := srv.CallCount(awsfake.STSAssumeRole); n != 2 {
		t.Errorf("%d AssumeRole calls, want 2 (the second after ExpiredTokenException)", n)
	}
}

// TestWrongSecretRefused: wherever the secret key comes from, a wrong one
// with the right access key id gets no token: AWS refuses the signature
// (ECR InvalidSignatureException, STS SignatureDoesNotMatch, named with
// the operation), and the error holds no secret key.
func TestWrongSecretRefused(t *testing.T) {
	const wrong = "ocicred-wrong-secret-key-must-not-leak"
	const (
		ecrRefusal = "ECR GetAuthorizationToken: InvalidSignatureException: "
		stsRefusal = "STS AssumeRole: SignatureDoesNotMatch: "
	)
	tests := []struct {
		name  string
		creds string // {{file}} is a file holding the wrong secret
		setup func(t *testing.T)
		want  string
	}{
		{"secretAccessKey", `{type: secret, accessKeyId: ` + testKeyID + `, secretAccessKey: ` + wrong + `}`, nil, ecrRefusal},
		{"secretAccessKeyFile", `{type: secret, accessKeyId: ` + testKeyID + `, secretAccessKeyFile: {{file}}}`, nil, ecrRefusal},
		{"secretAccessKeyEnv", `{type: secret, accessKeyId: ` + testKeyID + `, secretAccessKeyEnv: OCICRED_TEST_SK}`,
			func(t *testing.T) { t.Setenv("OCICRED_TEST_SK", wrong) }, ecrRefusal},
		{"sts base keys from secretAccessKeyFile",
			`{type: sts, roleArn: "` + testRoleA + `", accessKeyId: ` + testKeyID + `, secretAccessKeyFile: {{file}}}`, nil, stsRefusal},
		{"default chain, AWS_SECRET_ACCESS_KEY", `{type: default}`, func(t *testing.T) {
			t.Setenv("AWS_ACCESS_KEY_ID", envKeyID)
			t.Setenv("AWS_SECRET_ACCESS_KEY", wrong)
		}, ecrRefusal},
		{"default chain, profile", `{type: default, profile: dev}`, func(t *testing.T) { writeProfile(t, wrong) }, ecrRefusal},
		{"sts base keys from the default chain", `{type: sts, roleArn: "` + testRoleA + `"}`, func(t *testing.T) {
			t.Setenv("AWS_ACCESS_KEY_ID", envKeyID)
			t.Setenv("AWS_SECRET_ACCESS_KEY", wrong)
		}, stsRefusal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startFake(t)
			if tt.setup != nil {
				tt.setup(t)
			}
			file := filepath.Join(t.TempDir(), "sk")
			if err := os.WriteFile(file, []byte(wrong+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			creds := strings.ReplaceAll(tt.creds, "{{file}}", file)
			reg := registry(t, "registries:\n  - name: r\n    type: ecr\n    endpoint: "+testHost+"\n    credentials: "+creds+"\n")
			_, err := NewFetcher().Fetch(testCtx(t), reg)
			var apiErr *Failure
			if !errors.As(err, &apiErr) || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("Fetch: %v, want an AWS refusal %q", err, tt.want)
			}
			for _, secret := range []string{wrong, testSecret, envSecret, profileSecret} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error holds a secret key (%d bytes)", len(secret))
				}
			}
			if n := srv.CallCount(awsfake.ECRGetAuthorizationToken); tt.want == stsRefusal && n != 0 {
				t.Errorf("%d ECR calls after AssumeRole was refused", n)
			}
		})
	}
}
