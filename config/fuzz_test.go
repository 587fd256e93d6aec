package config

import (
	"strings"
	"testing"
)

// FuzzParse holds that Parse never panics, and that whatever it accepts is
// consistent: every registry has a host key that finds it again.
func FuzzParse(f *testing.F) {
	f.Add([]byte(full))
	f.Add([]byte(`{"registries":[{"name":"a","type":"basic","endpoint":"a","username":"u","password":"p"}]}`))
	f.Add([]byte("registries:\n  - &a {name: x}\n  - *a\n"))
	f.Add([]byte("socket: [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, r := range c.Registries {
			if got, ok := c.Lookup(r.Host); !ok || got != r {
				t.Fatalf("Lookup(%q) did not find registry %q", r.Host, r.Name)
			}
		}
	})
}

// FuzzHostKey holds that a key, once made, is its own key.
func FuzzHostKey(f *testing.F) {
	for _, s := range []string{"https://index.docker.io/v1/", "127.0.0.1:5000", "[::1]:80", "h/x", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		k, err := HostKey(addr)
		if err != nil {
			return
		}
		k2, err := HostKey(k)
		if err != nil || k2 != k {
			t.Fatalf("HostKey(%q) = %q, but HostKey of that = %q, %v", addr, k, k2, err)
		}
	})
}
