package tokencache

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/secret"
)

func TestPutGet(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	dir := filepath.Join(t.TempDir(), "cache")
	c := New(dir, func() time.Time { return now })
	name := Name("abc123")
	if _, err := c.Get(name); !errors.Is(err, ErrNoToken) {
		t.Fatalf("Get from an empty cache = %v, want ErrNoToken", err)
	}
	if err := c.Put(name, creds.Token{Password: secret.New("tok"), ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(name)
	if err != nil || got.Password.Reveal() != "tok" || !got.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Errorf("Get = %+v, %v", got, err)
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
	if _, err := c.Get(name); !errors.Is(err, ErrNoToken) {
		t.Errorf("a token with 4 minutes left: Get = %v, want ErrNoToken", err)
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

// TestGetRefusesPlantedTokens: every way another local user could have put
// a token file where the cache looks (names follow from a readable config)
// is refused, with what to do, and no planted token is served.
func TestGetRefusesPlantedTokens(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files to another user")
	}
	const nobody = 65534
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	name := Name("abc123")
	planted := []byte(`{"password":"planted-token","expiresAt":"2099-01-01T00:00:00Z"}`)
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns the cache folder
		want  string
	}{
		{"folder open to everyone (1777)", func(t *testing.T, dir string) string {
			must(t, os.Chmod(dir, 0o1777))
			must(t, os.WriteFile(filepath.Join(dir, name), planted, 0o600))
			return dir
		}, "is open to other users (mode 0777); chmod 700 it"},
		{"folder readable by others (0755)", func(t *testing.T, dir string) string {
			must(t, os.Chmod(dir, 0o755))
			must(t, os.WriteFile(filepath.Join(dir, name), planted, 0o600))
			return dir
		}, "is open to other users (mode 0755)"},
		{"folder of another user", func(t *testing.T, dir string) string {
			must(t, os.WriteFile(filepath.Join(dir, name), planted, 0o600))
			must(t, os.Chown(dir, nobody, nobody))
			return dir
		}, "belongs to uid 65534, not to this user"},
		{"folder is a link", func(t *testing.T, dir string) string {
			real := filepath.Join(dir, "real")
			must(t, os.Mkdir(real, 0o700))
			must(t, os.WriteFile(filepath.Join(real, name), planted, 0o600))
			link := filepath.Join(dir, "link")
			must(t, os.Symlink(real, link))
			return link
		}, "is a symbolic link; set OCICRED_CACHE_DIR to the folder itself"},
		{"file of another user", func(t *testing.T, dir string) string {
			must(t, os.WriteFile(filepath.Join(dir, name), planted, 0o600))
			must(t, os.Chown(filepath.Join(dir, name), nobody, nobody))
			return dir
		}, "belongs to uid 65534, not to this user"},
		{"file is a link", func(t *testing.T, dir string) string {
			other := filepath.Join(t.TempDir(), "elsewhere")
			must(t, os.WriteFile(other, planted, 0o600))
			must(t, os.Symlink(other, filepath.Join(dir, name)))
			return dir
		}, "is a symbolic link, which ocicred never writes; remove it"},
		{"file open to others", func(t *testing.T, dir string) string {
			must(t, os.WriteFile(filepath.Join(dir, name), planted, 0o600))
			must(t, os.Chmod(filepath.Join(dir, name), 0o666))
			return dir
		}, "is open to other users (mode 0666); remove it"},
		{"file is a FIFO", func(t *testing.T, dir string) string {
			must(t, syscall.Mkfifo(filepath.Join(dir, name), 0o600))
			return dir
		}, "is not a regular file; remove it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			must(t, os.Chmod(dir, 0o700)) // as Put makes it
			dir = tt.setup(t, dir)
			c := New(dir, func() time.Time { return now })
			tok, err := c.Get(name)
			var ue *UnsafeError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Get = %v; want an UnsafeError saying %q", err, tt.want)
			}
			if tok.Password.Reveal() == "planted-token" {
				t.Error("the planted token was served")
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Tokens of the layout of one file per registry are read once into the
// identity's file, the latest still valid winning, and the old files go.
func TestMigrateToOneFilePerIdentity(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	now := time.Now()
	c := New(dir, func() time.Time { return now })
	old := creds.Token{Password: secret.New("older"), ExpiresAt: now.Add(time.Hour)}
	newer := creds.Token{Password: secret.New("newer"), ExpiresAt: now.Add(2 * time.Hour)}
	if err := c.Put(legacyName("a", "id1"), old); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(legacyName("b", "id1"), newer); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(legacyName("c", "id2"), old); err != nil { // another identity: left alone
		t.Fatal(err)
	}
	if err := c.Migrate("id1", []string{"a", "b", "z"}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(Name("id1"))
	if err != nil || got.Password.Reveal() != "newer" {
		t.Errorf("migrated token: %v, %v; want the newer one", got.ExpiresAt, err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "ecr-*.json"))
	if len(files) != 2 {
		t.Errorf("files after migrating id1: %v; want id1's own and c's old one", files)
	}
	if err := c.Migrate("id1", []string{"a", "b"}); err != nil {
		t.Errorf("a second Migrate: %v", err)
	}
}
