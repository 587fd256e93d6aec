package config

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// resolveWithin resolves c's secrets with the real file system and fails
// the test when that has not returned after 10 s (a blocked open).
func resolveWithin(t *testing.T, c *Config) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- c.ResolveSecrets(OS) }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("ResolveSecrets still blocks after 10s")
		return nil
	}
}

func TestSecretFilesThatNeverEndOrNeverOpen(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	shadow := filepath.Join(dir, "shadow")
	const line2 = "daemon:*:19000:0:99999:7:::"
	if err := os.WriteFile(shadow, []byte("root:$6$salt$hash:19000:0:99999:7:::\n"+line2+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	crlf := filepath.Join(dir, "crlf")
	if err := os.WriteFile(crlf, []byte("pw\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file, want string
	}{
		{fifo, fifo + " is not a regular file: a FIFO; point it at a file that holds only the secret"},
		{"/dev/zero", "/dev/zero is not a regular file: a character device"},
		{dir, dir + " is not a regular file: a folder"},
		{shadow, shadow + " holds more than one line; a secret file holds the secret alone, on one line"},
		{crlf, ""},
	}
	for _, tt := range tests {
		c, err := Parse([]byte("registries: [{name: a, type: basic, endpoint: a.example, username: u, passwordFile: "+tt.file+"}]"), "c.yaml")
		if err != nil {
			t.Fatal(err)
		}
		err = resolveWithin(t, c)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.file, err)
		case tt.want == "" && c.Registries[0].BasicPassword().Reveal() != "pw":
			t.Errorf("%s: password is not the line without its CRLF", tt.file)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: ResolveSecrets = %v\nwant %q", tt.file, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "daemon:") {
			t.Errorf("the error quotes the file: %v", err)
		}
	}
}

func TestSecretFileReadIsBounded(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(256 << 20); err != nil { // sparse: costs no disk
		t.Fatal(err)
	}
	f.Close()
	c, err := Parse([]byte("registries: [{name: a, type: basic, endpoint: a.example, username: u, passwordFile: "+big+"}]"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err = resolveWithin(t, c)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "is larger than 64 KiB") {
		t.Errorf("ResolveSecrets = %v", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Errorf("refusing a 256 MiB secret file allocated %d bytes; it must stop after 64 KiB", grew)
	}
}

func TestReadRefusesAConfigThatIsNotAFile(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "config.yaml")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := Read(fifo); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "is not a regular file: a FIFO; --config takes a file") {
			t.Errorf("Read(FIFO) = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Read(FIFO) still blocks after 10s")
	}
}

func TestSecretFromFile(t *testing.T) {
	tests := []struct {
		in   string
		want string // the secret, or the start of the error
		ok   bool
	}{
		{"pw", "pw", true},
		{"pw\n", "pw", true},
		{"pw\r\n\n", "pw", true},
		{"p w\t!", "p w\t!", true},
		{"", "is empty", false},
		{"\n\n", "is empty", false},
		{"a\nb", "holds more than one line", false},
		{"a\rb\n", "holds more than one line", false},
		{"a\x00b", "holds a NUL byte", false},
		{strings.Repeat("x", 64<<10+1), "is larger than 64 KiB", false},
	}
	for _, tt := range tests {
		s, err := secretFromFile([]byte(tt.in))
		switch {
		case tt.ok && (err != nil || s.Reveal() != tt.want):
			t.Errorf("secretFromFile(%q) = %v; want the secret %q", tt.in, err, tt.want)
		case !tt.ok && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
			t.Errorf("secretFromFile(%q) = %v; want %q", tt.in, err, tt.want)
		}
	}
}
