package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocicred/ocicred/internal/localfile"
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

// FuzzParseAliases holds that aliases never make the decoder visit more
// values than the bound Parse checks first, that an anchor used inside
// itself is refused, and that nothing panics. The bound is small here so
// that the fuzzer reaches it with short inputs.
func FuzzParseAliases(f *testing.F) {
	const bound = 2000
	f.Add([]byte(aliasBomb(3, 3)))
	f.Add([]byte(aliasBomb(50, 50)))
	f.Add([]byte("registries: &r [{name: a, allow: *r}]\n"))
	f.Add([]byte("a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"))
	f.Add([]byte("registries:\n  - &a {name: x, tls: &t {ca: /c}}\n  - {name: y, tls: *t}\n  - *a\n"))
	f.Add([]byte("{\"registries\": [{\"name\": \"a\", \"allow\": [\"u\"]}]}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, visits, err := parse(data, "fuzz.yaml", bound)
		if visits > bound {
			t.Fatalf("decoder visited %d values, over the bound %d", visits, bound)
		}
		if err == nil && c == nil {
			t.Fatal("no config and no error")
		}
		if err != nil && !strings.HasPrefix(err.Error(), "fuzz.yaml") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}

// FuzzSecretFile holds, for any bytes written to a passwordFile, that the
// secret is the file's one line without its ending, or an error that quotes
// none of it; and that reading goes through the real file reader.
func FuzzSecretFile(f *testing.F) {
	for _, s := range []string{"pw\n", "pw\r\n", "a\nb\n", "", "\n", "x\x00y", "root:x:0:0:root:/root:/bin/bash\nbin:x:1:1::/:/sbin/nologin\n"} {
		f.Add([]byte(s))
	}
	path := filepath.Join(f.TempDir(), "secret")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		raw, err := ReadSecretFile(path)
		if len(data) > maxSecretFile {
			if !errors.Is(err, localfile.ErrTooLarge) {
				t.Fatalf("ReadSecretFile of %d bytes = %v, want ErrTooLarge", len(data), err)
			}
			return
		}
		if err != nil {
			t.Fatalf("ReadSecretFile of a %d-byte regular file: %v", len(data), err)
		}
		s, err := secretFromFile(raw)
		if err != nil {
			if line := strings.TrimRight(string(data), "\r\n"); len(line) >= 4 && strings.Contains(err.Error(), line) {
				t.Fatalf("the error quotes the file: %v", err)
			}
			return
		}
		got := s.Reveal()
		if got == "" || strings.ContainsAny(got, "\r\n\x00") || got != strings.TrimRight(string(data), "\r\n") {
			t.Fatalf("secret %q from file %q", got, data)
		}
	})
}
