// Package tokencache keeps ECR tokens in files, so that the daemon-less
// path does not call AWS on every pull. Each file holds one registry's
// token, is named by the registry and a hash of its AWS identity (not an
// access key id, so assumed roles hit it too), is mode 0600 in a 0700
// folder, and is written atomically.
package tokencache

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/renameio/v2"

	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/secret"
)

// MinRemaining is how much life a cached token must have left to be used.
const MinRemaining = 5 * time.Minute

// Dir is where tokens are cached: OCICRED_CACHE_DIR, else the daemon's
// state folder for root, else the user's cache folder.
func Dir() (string, error) {
	if d := os.Getenv("OCICRED_CACHE_DIR"); d != "" {
		return d, nil
	}
	if os.Getuid() == 0 {
		return "/var/lib/ocicred", nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache folder: %w; set OCICRED_CACHE_DIR", err)
	}
	return filepath.Join(base, "ocicred"), nil
}

// Cache is a folder of token files.
type Cache struct {
	dir string
	now func() time.Time
}

// New returns a cache in dir.
func New(dir string, now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	return &Cache{dir: dir, now: now}
}

type entry struct {
	Password  string    `json:"password"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Name is the file name of a registry's token.
func Name(registry, identity string) string { return "ecr-" + registry + "-" + identity + ".json" }

// Get returns the cached token in file name when it has at least
// MinRemaining left.
func (c *Cache) Get(name string) (creds.Token, bool) {
	data, err := os.ReadFile(filepath.Join(c.dir, name))
	if err != nil {
		return creds.Token{}, false
	}
	var e entry
	if json.Unmarshal(data, &e) != nil || e.Password == "" || e.ExpiresAt.Sub(c.now()) < MinRemaining {
		return creds.Token{}, false
	}
	return creds.Token{Password: secret.New(e.Password), ExpiresAt: e.ExpiresAt}, true
}

// Put stores a token atomically with mode 0600.
func (c *Cache) Put(name string, tok creds.Token) error {
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	if fi, err := os.Stat(c.dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return errors.New("token cache: folder " + c.dir + " is open to other users; chmod 700 it")
	}
	data, err := json.Marshal(entry{Password: tok.Password.Reveal(), ExpiresAt: tok.ExpiresAt.UTC()})
	if err != nil {
		return err
	}
	if err := renameio.WriteFile(filepath.Join(c.dir, name), data, 0o600, renameio.WithTempDir(c.dir)); err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	return nil
}
