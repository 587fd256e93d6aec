package daemon

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocicred/ocicred/internal/localapi"
)

// TestWrongSecretKey: a registry whose access key id is right but whose
// secret key is not (from secretAccessKeyFile, from secretAccessKeyEnv, or
// as the base key of a role) gets no token: AWS refuses the signature, the
// answer names the registry and AWS's reason, status shows the error, and
// neither secret key, right or wrong, appears in an answer, status or log
// line. The same key id with the right secret works in the same daemon.
func TestWrongSecretKey(t *testing.T) {
	const (
		wrongFileSecret = "sk-wrong-in-file-must-not-leak"
		wrongEnvSecret  = "sk-wrong-in-env-must-not-leak"
		fileHost        = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
		envHost         = "123456789012.dkr.ecr.eu-central-1.amazonaws.com"
		roleHost        = "210987654321.dkr.ecr.us-west-2.amazonaws.com"
	)
	skFile := filepath.Join(t.TempDir(), "sk")
	writeConfig(t, skFile, wrongFileSecret+"\n")
	t.Setenv("OCICRED_WRONG_SK", wrongEnvSecret)
	ecr := func(name, host, creds string) string {
		return "  - name: " + name + "\n    type: ecr\n    endpoint: " + host + "\n    credentials: " + creds + "\n"
	}
	cfg := "registries:\n" + fltRegistry("secret") +
		ecr("file", fileHost, "{type: secret, accessKeyId: "+fltKeyID+", secretAccessKeyFile: "+skFile+"}") +
		ecr("env", envHost, "{type: secret, accessKeyId: "+fltKeyID+", secretAccessKeyEnv: OCICRED_WRONG_SK}") +
		ecr("role", roleHost, "{type: sts, roleArn: \""+fltRole+"\", accessKeyId: "+fltKeyID+", secretAccessKeyEnv: OCICRED_WRONG_SK}")
	clock := fltClock()
	td, fake := fltStart(t, clock, cfg)
	clock.waitSleepers(t, 4) // every first fetch is over, and each loop waits for its next
	ctx := context.Background()

	good, err := td.client.Credentials(ctx, fltHost)
	if err != nil || !fake.ValidToken(good.Username, good.Secret) {
		t.Fatalf("prod, the right secret: %v; want a token", err)
	}
	texts := map[string]string{}
	for _, tt := range []struct{ name, host, want string }{
		{"file", fileHost, "ECR GetAuthorizationToken: InvalidSignatureException: "},
		{"env", envHost, "ECR GetAuthorizationToken: InvalidSignatureException: "},
		{"role", roleHost, "STS AssumeRole: SignatureDoesNotMatch: "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := td.client.Credentials(ctx, tt.host)
			if err == nil {
				t.Fatal("a token for a wrong secret key")
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "registry "+tt.name+": ") || !strings.Contains(msg, tt.want) {
				t.Errorf("answer %q, want it to name registry %s and %q", msg, tt.name, tt.want)
			}
			rs := fltStatus(t, td, tt.name)
			if rs.State != localapi.StateError || !strings.Contains(rs.LastError, tt.want) {
				t.Errorf("status %+v, want error with %q", rs, tt.want)
			}
			texts["the answer for "+tt.name] = err.Error()
			texts["the status of "+tt.name] = rs.LastError
		})
	}
	refused := 0
	for _, c := range fake.Calls() {
		if c.ErrorCode == "InvalidSignatureException" || c.ErrorCode == "SignatureDoesNotMatch" {
			refused++
			if c.AccessKeyID != fltKeyID {
				t.Errorf("a refused call signed by %q, want %s: the key id was right", c.AccessKeyID, fltKeyID)
			}
		}
	}
	if refused < 3 {
		t.Errorf("%d calls refused for their signature, want one per wrong registry: %+v", refused, fake.Calls())
	}
	texts["the daemon log"] = td.logs.String()
	for where, text := range texts {
		fltNoSecret(t, where, text, wrongFileSecret, wrongEnvSecret, good.Secret)
	}
}
