package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// config validate prints every error and quotes no value the file holds:
// not user info or a token in an endpoint, not a secret pasted where an
// environment variable's name belongs.
func TestValidateEchoesNoSecret(t *testing.T) {
	const s = "wJalrXUtnFEMIK7MDENGbPxRfiCY"
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	writeFile(t, cfg, `registries:
  - {name: a, type: basic, endpoint: "https://robot:`+s+`@a.example", username: u, passwordEnv: PW}
  - {name: b, type: basic, endpoint: "b.example/?access_token=`+s+`", username: u, passwordEnv: PW}
  - {name: c, type: basic, endpoint: c.example, username: u, passwordEnv: `+s+`}
`, 0o600)
	stdout, stderr, code := ocicred(t, "config", "validate", cfg)
	out := stdout + stderr
	if strings.Contains(strings.ToLower(out), strings.ToLower(s)) {
		t.Errorf("validate quotes the secret:\n%s", strings.ReplaceAll(out, s, "<SECRET>"))
	}
	for _, want := range []string{
		cfg + ":2:38: registries[0].endpoint: holds a user name or password",
		cfg + ":3:38: registries[1].endpoint: holds a query string",
		cfg + ":4:75: registries[2].passwordEnv: is not an environment variable name",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("validate output lacks %q:\n%s", want, strings.ReplaceAll(out, s, "<SECRET>"))
		}
	}
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
}
