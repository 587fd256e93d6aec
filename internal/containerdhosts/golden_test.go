package containerdhosts

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/secret"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from what Render gives")

// goldenCA is the CA path the TLS case's config names; the containerd test
// puts a real CA there (in a temp folder) before containerd reads the file.
const goldenCA = "/etc/ocicred/corp-ca.pem"

// goldenCases are the files checked byte for byte against testdata/ and
// read by containerd's own parser: what containerd must make of each.
var goldenCases = []struct {
	name     string // testdata/<name>.hosts.toml
	registry string // one registry of a config
	user     string
	pass     string
	// What containerd's ConfigureHosts must give for the registry's host.
	scheme, host string
	tls          bool // the CA and skip_verify of goldenCA reach containerd's TLS config
}{
	{"basic", "{name: corp, type: basic, endpoint: registry.example, username: robot, password: pw}",
		"robot", "pw", "https", "registry.example", false},
	{"host-port-tls", "{name: corp, type: basic, endpoint: corp.example:8443, username: robot, password: pw, tls: {ca: " + goldenCA + ", insecureSkipVerify: true}}",
		"robot", "pw", "https", "corp.example:8443", true},
	{"http-host-port", "{name: local, type: basic, endpoint: \"http://127.0.0.1:5000\", username: alice, password: pw-alice}",
		"alice", "pw-alice", "http", "127.0.0.1:5000", false},
	{"ipv6-literal", "{name: v6, type: basic, endpoint: \"http://[::1]:5000\", username: alice, password: pw-alice}",
		"alice", "pw-alice", "http", "[::1]:5000", false},
	{"ecr", "{name: prod, type: ecr, endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com}",
		"AWS", "ecr-token-0123456789", "https", "123456789012.dkr.ecr.us-west-2.amazonaws.com", false},
	{"docker-hub", "{name: hub, type: basic, endpoint: index.docker.io, username: user-hub, password: pw}",
		"user-hub", "pw", "https", "registry-1.docker.io", false},
}

func goldenRegistry(t *testing.T, entry string) *config.Registry {
	t.Helper()
	c, err := config.Parse([]byte("registries:\n  - "+entry+"\n"), "golden.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c.Registries[0]
}

func goldenPath(name string) string { return filepath.Join("testdata", name+".hosts.toml") }

// Render gives, byte for byte, the files in testdata/ (go test -update
// rewrites them).
func TestRenderGolden(t *testing.T) {
	for _, tt := range goldenCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(goldenRegistry(t, tt.registry), tt.user, secret.New(tt.pass))
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := os.WriteFile(goldenPath(tt.name), got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(goldenPath(tt.name))
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Render:\n%s\nwant (%s):\n%s", got, goldenPath(tt.name), want)
			}
		})
	}
}
