package tokencache

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/secret"
)

func TestPutGet(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	dir := filepath.Join(t.TempDir(), "cache")
	c := New(dir, func() time.Time { return now })
	name := Name("prod", "abc123")
	if _, ok := c.Get(name); ok {
		t.Fatal("hit in an empty cache")
	}
	if err := c.Put(name, creds.Token{Password: secret.New("tok"), ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	got, ok := c.Get(name)
	if !ok || got.Password.Reveal() != "tok" || !got.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Errorf("Get = %+v, %v", got, ok)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, name): 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, %v; want %o", path, fi.Mode().Perm(), err, want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("cache folder holds %d files, want 1 (no temp files left)", len(entries))
	}
	// Too close to expiry: a miss.
	now = now.Add(56 * time.Minute)
	if _, ok := c.Get(name); ok {
		t.Error("a token with 4 minutes left was served from the cache")
	}
}

func TestPutRefusesOpenFolder(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	err := New(dir, nil).Put("x", creds.Token{Password: secret.New("t"), ExpiresAt: time.Now().Add(time.Hour)})
	if err == nil || !strings.Contains(err.Error(), "chmod 700") {
		t.Errorf("Put into a 0755 folder = %v", err)
	}
}
