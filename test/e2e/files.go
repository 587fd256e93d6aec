package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// BasicRegistry is one `type: basic` entry of the ocicred config. Set one of
// Password (inline) or PasswordFile.
type BasicRegistry struct {
	Name, Endpoint, Username string
	Password, PasswordFile   string
}

// WriteOcicredConfig writes the ocicred config file (mode 0600, so inline
// passwords are allowed).
func WriteOcicredConfig(t testing.TB, path string, regs ...BasicRegistry) {
	t.Helper()
	var b strings.Builder
	b.WriteString("registries:\n")
	for _, r := range regs {
		fmt.Fprintf(&b, "  - name: %s\n    type: basic\n    endpoint: %s\n    username: %s\n",
			strconv.Quote(r.Name), strconv.Quote(r.Endpoint), strconv.Quote(r.Username))
		switch {
		case r.PasswordFile != "":
			fmt.Fprintf(&b, "    passwordFile: %s\n", strconv.Quote(r.PasswordFile))
		case r.Password != "":
			fmt.Fprintf(&b, "    password: %s\n", strconv.Quote(r.Password))
		}
	}
	writeFile(t, path, b.String())
}

// WritePasswordFile writes password to a 0600 file in dir and returns its path.
func WritePasswordFile(t testing.TB, dir, password string) string {
	t.Helper()
	path := filepath.Join(dir, "registry-password")
	writeFile(t, path, password+"\n")
	return path
}

// DockerConfig is the part of $DOCKER_CONFIG/config.json the suite writes.
type DockerConfig struct {
	Auths       map[string]DockerAuth `json:"auths,omitempty"`
	CredHelpers map[string]string     `json:"credHelpers,omitempty"`
}

// DockerAuth is an `auths` entry: base64("user:password").
type DockerAuth struct {
	Auth string `json:"auth"`
}

// WriteDockerConfig writes cfg to dir/config.json.
func WriteDockerConfig(t testing.TB, dir string, cfg DockerConfig) string {
	t.Helper()
	path := filepath.Join(dir, "config.json")
	WriteAuthFile(t, path, cfg)
	return path
}

// WriteAuthFile writes cfg as JSON to path: a docker config.json, or a
// containers auth.json (same keys; containers/image reads only auths and
// credHelpers).
func WriteAuthFile(t testing.TB, path string, cfg DockerConfig) {
	t.Helper()
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(data)+"\n")
}

// WriteSkopeoPolicy writes a containers policy.json that accepts any image,
// for `skopeo copy --policy`, and returns its path.
func WriteSkopeoPolicy(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "policy.json")
	writeFile(t, path, `{"default":[{"type":"insecureAcceptAnything"}]}`+"\n")
	return path
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
