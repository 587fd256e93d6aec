package config

import (
	"errors"
	"testing"
)

func TestHostKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"harbor.example.com", "harbor.example.com"},
		{"HARBOR.example.com:8443", "harbor.example.com:8443"},
		{"https://harbor.example.com:8443/", "harbor.example.com:8443"},
		{"https://harbor.example.com:8443/v2/library/x", "harbor.example.com:8443"},
		{"harbor.example.com/team/app", "harbor.example.com"},
		{"http://127.0.0.1:5000", "127.0.0.1:5000"},
		{" 127.0.0.1:5000\n", "127.0.0.1:5000"},
		{"https://index.docker.io/v1/", "docker.io"},
		{"docker.io", "docker.io"},
		{"registry-1.docker.io", "docker.io"},
		{"[::1]:5000", "[::1]:5000"},
		{"localhost", "localhost"},
	}
	for _, tt := range tests {
		got, err := HostKey(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("HostKey(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "   ", "https://", "a b", "host:port", "host:0", "host:70000", "h:05000", "h:+443", "[::1", "[zz]:1", "\x00\xff", "ex ample.com", "a..b"} {
		if got, err := HostKey(bad); !errors.Is(err, ErrBadAddress) {
			t.Errorf("HostKey(%q) = %q, %v; want ErrBadAddress", bad, got, err)
		}
	}
}

func TestLookup(t *testing.T) {
	c, err := Parse([]byte(`registries:
  - {name: local, type: basic, endpoint: "http://127.0.0.1:5000", username: u, passwordEnv: P}
  - {name: hub, type: basic, endpoint: "https://index.docker.io/v1/", username: u, passwordEnv: P}
`), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]string{
		"127.0.0.1:5000": "local", "http://127.0.0.1:5000/": "local", "https://127.0.0.1:5000": "local",
		"127.0.0.1:5000/demo/hello": "local", "docker.io": "hub", "https://index.docker.io/v1/": "hub",
		"localhost:5000": "", "127.0.0.1": "", "127.0.0.1:5001": "", "garbage in": "",
	} {
		r, ok := c.Lookup(addr)
		got := ""
		if ok {
			got = r.Name
		}
		if got != want {
			t.Errorf("Lookup(%q) = %q, want %q", addr, got, want)
		}
	}
}
