package containerdhosts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// CheckCRIConfig finds config_path in each config version's CRI section
// and says what to change when it is not the hosts folder.
func TestCheckCRIConfig(t *testing.T) {
	const hostsDir = "/etc/containerd/certs.d"
	tests := []struct {
		name, toml string // "" for no file
		ok         bool
		msg        string
	}{
		{"no file", "", false, "does not exist"},
		{"1.x without config_path", "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"\"\n", false,
			"does not set config_path: CRI pulls (kubelet, crictl) will not read the hosts.toml files. Add\n\n" +
				"  [plugins.\"io.containerd.grpc.v1.cri\".registry]\n    config_path = \"/etc/containerd/certs.d\""},
		{"2.x without registry", "version = 3\n", false, `[plugins."io.containerd.cri.v1.images".registry]`},
		{"version 1", "[plugins.cri.registry]\nconfig_path = \"/etc/containerd/certs.d\"\n", true, "config_path is /etc/containerd/certs.d"},
		{"several folders", "version = 3\n[plugins.'io.containerd.cri.v1.images'.registry]\nconfig_path = '/etc/containerd/certs.d:/etc/docker/certs.d'\n", false,
			"lists several folders. containerd 2.1 and later, in transfer-service mode (their default),\n  take it as one folder name and ignore every hosts.toml (containerd/containerd#12808)"},
		{"elsewhere", "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"/etc/docker/certs.d\"\n", false,
			"or run: ocicred setup containerd --hosts-dir /etc/docker/certs.d"},
		{"match", "version = 3\n[plugins.'io.containerd.cri.v1.images'.registry]\nconfig_path = '/etc/containerd/certs.d/'\n",
			true, "config_path is /etc/containerd/certs.d"},
		{"unknown version", "version = 9\n", false, "config version 9, which this ocicred does not know"},
		{"not TOML", "version = = 2", false, "is not TOML"},
	}
	for _, tt := range tests {
		path := filepath.Join(t.TempDir(), "config.toml")
		if tt.toml != "" {
			if err := os.WriteFile(path, []byte(tt.toml), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got := CheckCRIConfig(path, hostsDir)
		if got.OK != tt.ok || !strings.Contains(got.Msg, tt.msg) || !strings.HasPrefix(got.Msg, path) || strings.HasSuffix(got.Msg, "\n") {
			t.Errorf("%s: %+v\nwant ok %v and a message about %s holding %q", tt.name, got, tt.ok, path, tt.msg)
		}
	}
}
