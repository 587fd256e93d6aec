package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// setupContainerd runs `ocicred setup containerd ARGS` with --config cfg.
func setupContainerd(t *testing.T, cfg string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	g := &globals{configPath: cfg, stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}
	cmd := newSetupContainerdCmd(g)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	code = ExitOK
	if err := cmd.Execute(); err != nil {
		var ee *exitError
		code = ExitFailure
		if errors.As(err, &ee) {
			code = ee.code
		}
		errOut.WriteString(err.Error() + "\n")
	}
	return out.String(), errOut.String(), code
}

const specLikeConfig = `socket: /run/ocicred/ocicred.sock      # optional; OCICRED_SOCKET overrides
# the registries
registries:
  - name: harbor                        # required
    type: basic                         # basic | ecr
    endpoint: harbor.example.com:8443
    username: robot$ci
    password: s3cret-inline             # exactly one of password | passwordFile | passwordEnv
`

func TestSetupContainerdWritesConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, specLikeConfig, 0o640)
	ctd := filepath.Join(dir, "containerd.toml")
	writeFile(t, ctd, "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"/etc/containerd/certs.d\"\n", 0o644)

	// --dry-run: the change, no secret, nothing written.
	stdout, stderr, code := setupContainerd(t, cfg, "--dry-run", "--containerd-config", ctd)
	if code != 0 || !strings.Contains(stdout, "would set containerd.hostsDir to /etc/containerd/certs.d (unset)") ||
		!strings.Contains(stdout, "+containerd:\n+  hostsDir: /etc/containerd/certs.d\n") {
		t.Errorf("dry run: exit %d\n%s%s", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, "s3cret-inline") {
		t.Error("the dry run printed the password")
	}
	if data, _ := os.ReadFile(cfg); string(data) != specLikeConfig {
		t.Error("the dry run wrote the file")
	}

	stdout, stderr, code = setupContainerd(t, cfg, "--containerd-config", ctd)
	if code != 0 || !strings.Contains(stdout, "set containerd.hostsDir to /etc/containerd/certs.d") || stderr != "" {
		t.Errorf("setup: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "config_path is /etc/containerd/certs.d") {
		t.Errorf("a matching config_path is not confirmed:\n%s", stdout)
	}
	data, _ := os.ReadFile(cfg)
	if string(data) != specLikeConfig+"containerd:\n  hostsDir: /etc/containerd/certs.d\n" {
		t.Errorf("config after setup:\n%s", data)
	}
	if fi, err := os.Stat(cfg); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("mode after setup: %v, %v; want 0640 kept", fi.Mode().Perm(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("files left in the config folder: %v", entries)
	}

	stdout, _, code = setupContainerd(t, cfg, "--containerd-config", ctd)
	if code != 0 || !strings.Contains(stdout, "containerd.hostsDir is already /etc/containerd/certs.d") {
		t.Errorf("second run: exit %d\n%s", code, stdout)
	}

	// Another folder: the value is replaced and containerd's config_path no longer matches.
	_, stderr, code = setupContainerd(t, cfg, "--hosts-dir", "/srv/certs.d", "--containerd-config", ctd)
	if data, _ := os.ReadFile(cfg); code != 0 || !strings.Contains(string(data), "  hostsDir: /srv/certs.d\n") {
		t.Errorf("--hosts-dir: exit %d\n%s", code, data)
	}
	if !strings.Contains(stderr, `config_path = "/etc/containerd/certs.d", but ocicred writes to /srv/certs.d`) {
		t.Errorf("no warning about the other config_path:\n%s", stderr)
	}
}

func TestSetupContainerdRefuses(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	writeFile(t, bad, "registries:\n  - name: a\n    typo: basic\n", 0o600)
	good := filepath.Join(dir, "good.yaml")
	writeFile(t, good, "registries: []\n", 0o600)
	tests := []struct {
		name, cfg string
		args      []string
		stderr    string
	}{
		{"invalid config", bad, nil, "registries[0].typo: unknown field"},
		{"missing config", filepath.Join(dir, "none.yaml"), nil, "no such file"},
		{"relative hosts dir", good, []string{"--hosts-dir", "certs.d"}, "write an absolute path"},
	}
	for _, tt := range tests {
		_, stderr, code := setupContainerd(t, tt.cfg, append(tt.args, "--containerd-config", filepath.Join(dir, "none.toml"))...)
		if code != ExitUsage || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", tt.name, code, stderr, tt.stderr)
		}
	}
	if data, _ := os.ReadFile(bad); !strings.Contains(string(data), "typo") || strings.Contains(string(data), "hostsDir") {
		t.Error("an invalid config was edited")
	}
}
