package config

import (
	"path/filepath"
	"testing"
)

const editExample = `socket: /run/ocicred/ocicred.sock      # optional; OCICRED_SOCKET overrides
# the registries
registries:
  - name: harbor                        # required
    type: basic                         # basic | ecr
    endpoint: harbor.example.com:8443
    username: robot$ci
    password: s3cret-inline             # exactly one of password | passwordFile | passwordEnv
`

func TestSetHostsDir(t *testing.T) {
	const dir = "/etc/containerd/certs.d"
	tests := []struct {
		name, in, want string
		changed        bool
		inPlace        bool
	}{
		{"appended, everything else byte for byte", editExample,
			editExample + "containerd:\n  hostsDir: /etc/containerd/certs.d\n", true, true},
		{"no final newline", "registries: []", "registries: []\ncontainerd:\n  hostsDir: /etc/containerd/certs.d\n", true, true},
		{"empty file", "", "containerd:\n  hostsDir: /etc/containerd/certs.d\n", true, true},
		{"value replaced, comment kept",
			"containerd:\n    hostsDir: /old/certs.d    # where containerd looks\nregistries: []\n",
			"containerd:\n    hostsDir: /etc/containerd/certs.d    # where containerd looks\nregistries: []\n", true, true},
		{"double-quoted value", "containerd:\n  hostsDir: \"/old\" # x\nregistries: []\n",
			"containerd:\n  hostsDir: /etc/containerd/certs.d # x\nregistries: []\n", true, true},
		{"single-quoted value", "containerd: # sink\n  hostsDir: '/o''ld'\n",
			"containerd: # sink\n  hostsDir: /etc/containerd/certs.d\n", true, true},
		{"empty containerd", "containerd:   # soon\nregistries: []\n",
			"containerd:   # soon\n  hostsDir: /etc/containerd/certs.d\nregistries: []\n", true, true},
		{"already set", "containerd:\n  hostsDir: /etc/containerd/certs.d/\n", "containerd:\n  hostsDir: /etc/containerd/certs.d/\n", false, true},
		{"flow mapping", "containerd: {hostsDir: /old}\nregistries: []\n", "", true, false},
		{"JSON", `{"registries": [], "containerd": {"hostsDir": "/old"}}`,
			`{"registries": [], "containerd": {"hostsDir": "/etc/containerd/certs.d"}}` + "\n", true, false},
		{"JSON without containerd", `{"registries": []}`,
			`{"registries": [], "containerd": {"hostsDir": "/etc/containerd/certs.d"}}` + "\n", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := SetHostsDir([]byte(tt.in), dir)
			if err != nil {
				t.Fatal(err)
			}
			if e.Changed != tt.changed || (e.Changed && e.InPlace != tt.inPlace) {
				t.Errorf("changed %v inPlace %v, want %v %v", e.Changed, e.InPlace, tt.changed, tt.inPlace)
			}
			if tt.want != "" && string(e.After) != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", e.After, tt.want)
			}
			c, err := Parse(e.After, "c.yaml")
			if err != nil {
				t.Fatalf("the result is not a valid config: %v\n%s", err, e.After)
			}
			if c.Containerd == nil || filepath.Clean(c.Containerd.HostsDir) != dir {
				t.Errorf("containerd = %+v in:\n%s", c.Containerd, e.After)
			}
		})
	}
	if _, err := SetHostsDir([]byte("- a\n- b\n"), dir); err == nil {
		t.Error("a list at the top level was accepted")
	}
}
