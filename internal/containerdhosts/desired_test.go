package containerdhosts

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/secret"
)

const desiredConfig = `containerd: {hostsDir: /etc/containerd/certs.d}
registries:
  - {name: open, type: basic, endpoint: open.example, username: u, password: pw-open}
  - {name: team, type: basic, endpoint: team.example, username: u, password: pw-team, allow: [root]}
  - {name: shared, type: basic, endpoint: shared.example, username: u, password: pw-shared, allow: [root], nodeWide: true}
  - {name: prod, type: ecr, endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com}
  - {name: waiting, type: ecr, endpoint: 210987654321.dkr.ecr.us-west-2.amazonaws.com}
  - {name: gallery, type: ecr, endpoint: public.ecr.aws, protected: false}
  - {name: gar, type: gar, endpoint: europe-west3-docker.pkg.dev, credentials: {type: serviceAccountKey, keyFile: KEYFILE}}
`

func loadDesired(t *testing.T, body string) *config.Config {
	t.Helper()
	key := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(key, []byte(`{"type": "service_account", "client_email": "puller@p.iam.gserviceaccount.com", "private_key": "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse([]byte(strings.ReplaceAll(body, "KEYFILE", key)), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ResolveSecrets(config.OS); err != nil {
		t.Fatal(err)
	}
	return c
}

// tokenFor gives prod a token and no one else: waiting has none yet.
func tokenFor(reg *config.Registry) (creds.Token, bool) {
	if reg.Name == "prod" {
		return creds.Token{Password: secret.New("ecr-token-prod")}, true
	}
	return creds.Token{}, false
}

// Desired keeps a file for every registry with credentials that is for the
// whole node, once its credentials are known, in the config's order; none
// without containerd.hostsDir.
func TestDesired(t *testing.T) {
	cfg := loadDesired(t, desiredConfig)
	files, errs := Desired(cfg, tokenFor)
	if len(errs) != 0 {
		t.Errorf("errors %v", errs)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Registry)
		reg, _ := cfg.Registry(f.Registry)
		if f.Host != reg.Host {
			t.Errorf("%s: host %q, want %q", f.Registry, f.Host, reg.Host)
		}
		pass := map[string]string{"open": "pw-open", "shared": "pw-shared", "prod": "ecr-token-prod"}[f.Registry]
		want, err := Render(reg, reg.User(), secret.New(pass))
		if err != nil || !bytes.Equal(f.Data(), want) {
			t.Errorf("%s: the file is not Render's with its credentials (%v)", f.Registry, err)
		}
	}
	if got := strings.Join(names, ","); got != "open,shared,prod" {
		t.Errorf("files for %s, want open,shared,prod", got)
	}
	for _, name := range []string{"open", "shared", "prod", "waiting"} {
		if reg, _ := cfg.Registry(name); !Kept(reg) {
			t.Errorf("%s is not kept", name)
		}
	}
	for _, name := range []string{"team", "gallery", "gar"} { // gar: no Basic credentials containerd could send
		if reg, _ := cfg.Registry(name); Kept(reg) {
			t.Errorf("%s is kept", name)
		}
	}

	noDir := loadDesired(t, strings.Replace(desiredConfig, "containerd: {hostsDir: /etc/containerd/certs.d}\n", "", 1))
	if files, errs := Desired(noDir, tokenFor); files != nil || errs != nil || HostsDir(noDir) != "" {
		t.Errorf("without containerd.hostsDir: %d files, errors %v", len(files), errs)
	}
}

// A File prints its name, never its content.
func TestFilePrintsNoCredential(t *testing.T) {
	files, _ := Desired(loadDesired(t, desiredConfig), tokenFor)
	for _, f := range files {
		for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(format, f)
			if strings.Contains(out, "pw-") || strings.Contains(out, "ecr-token") || strings.Contains(out, "Basic") {
				t.Errorf("%s of %s shows its content: %s", format, f.Registry, out)
			}
		}
	}
}

// The folder ocicred writes is the host itself, which containerd reads
// when no host_port_ folder exists; the rule of the host_port_ form.
func TestFolders(t *testing.T) {
	for _, tt := range []struct {
		host, folder, containerd string
	}{
		{"registry.example", "registry.example", "registry.example _default"},
		{"127.0.0.1:5000", "127.0.0.1:5000", "127.0.0.1_5000_ 127.0.0.1:5000 _default"},
		{"[::1]:5000", "[::1]:5000", "[::1]_5000_ [::1]:5000 _default"},
		{"[::1]", "[::1]", "[:_1]_ [::1] _default"}, // containerd's rule takes the last colon, even in a bare IPv6 literal
	} {
		if got := Folder(tt.host); got != tt.folder {
			t.Errorf("Folder(%q) = %q, want %q", tt.host, got, tt.folder)
		}
		if got := strings.Join(ContainerdFolders(tt.host), " "); got != tt.containerd {
			t.Errorf("ContainerdFolders(%q) = %s, want %s", tt.host, got, tt.containerd)
		}
	}
	if got := Path("/etc/containerd/certs.d", "[::1]:5000"); got != "/etc/containerd/certs.d/[::1]:5000/hosts.toml" {
		t.Errorf("Path = %s", got)
	}
}
