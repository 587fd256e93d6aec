package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveSecrets(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in := `registries:
  - {name: f, type: basic, endpoint: f.example, username: u, passwordFile: ` + pwFile + `}
  - {name: e, type: basic, endpoint: e.example, username: u, passwordEnv: PW}
  - {name: i, type: basic, endpoint: i.example, username: u, password: inline}
  - name: k
    type: ecr
    endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com
    credentials: {type: secret, accessKeyId: AKIAEXAMPLEEXAMPLE12, secretAccessKeyEnv: SK}
`
	c, err := Parse([]byte(in), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PW": "from-env", "SK": "secret-key"}
	src := Sources{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }, ReadFile: os.ReadFile}
	if err := c.ResolveSecrets(src); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"from-file", "from-env", "inline"} {
		if got := c.Registries[i].BasicPassword().Reveal(); got != want {
			t.Errorf("registry %d password = %q, want %q", i, got, want)
		}
	}
	if got := c.Registries[3].Credentials.SecretKey().Reveal(); got != "secret-key" {
		t.Errorf("secret key = %q", got)
	}

	// Missing file and unset variable: each its own error, with its place.
	if err := os.Remove(pwFile); err != nil {
		t.Fatal(err)
	}
	delete(env, "PW")
	err = c.ResolveSecrets(src)
	var es Errors
	if !errors.As(err, &es) || len(es) != 2 {
		t.Fatalf("ResolveSecrets = %v, want 2 errors", err)
	}
	if e := es[0]; e.Line != 2 || e.Column < 60 || e.Field != "registries[0].passwordFile" ||
		!strings.HasPrefix(e.Msg, "cannot read "+pwFile+": no such file or directory") {
		t.Errorf("error 0 = %v", e)
	}
	if e := es[1]; e.Line != 3 || e.Field != "registries[1].passwordEnv" || !strings.HasPrefix(e.Msg, "the environment variable it names is not set") {
		t.Errorf("error 1 = %v", e)
	}
}

func TestCheckMode(t *testing.T) {
	inline, _ := Parse([]byte("registries: [{name: a, type: basic, endpoint: a.example, username: u, password: p}]"), "c.yaml")
	byFile, _ := Parse([]byte("registries: [{name: a, type: basic, endpoint: a.example, username: u, passwordFile: /p}]"), "c.yaml")
	tests := []struct {
		c    *Config
		mode fs.FileMode
		ok   bool
	}{
		{inline, 0o600, true}, {inline, 0o640, true}, {inline, 0o644, false}, {inline, 0o604, false},
		{byFile, 0o644, true},
	}
	for _, tt := range tests {
		err := CheckMode(tt.c, tt.mode)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrWorldReadable)) {
			t.Errorf("CheckMode(inline=%v, %o) = %v", tt.c.HasInlineSecrets(), tt.mode, err)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !strings.Contains(err.Error(), "nope.yaml: no such file; create it") {
		t.Errorf("Load(missing) = %v", err)
	}
}
