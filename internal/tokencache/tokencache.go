// Package tokencache keeps ECR tokens in files, so that the daemon-less
// path does not call AWS on every pull. Each file holds one registry's
// token, is named by the registry and a hash of its AWS identity (not an
// access key id, so assumed roles hit it too), is mode 0600 in a 0700
// folder, and is written atomically.
//
// The file names can be worked out from a readable config, so a token
// file is trusted only when nobody else could have put it there: the
// folder is a real folder (not a link) that belongs to this user and is
// closed to others, and the file is a regular file (not a link) that
// belongs to this user and is closed to others. Anything else is refused,
// for reading as for writing, with an *UnsafeError. Those rules and the
// file format are internal/cachedir's, which the credential helper links
// to read the same files.
package tokencache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ocicred/ocicred/internal/cachedir"
	"github.com/ocicred/ocicred/internal/creds"
)

// MinRemaining is how much life a cached token must have left to be used.
const MinRemaining = cachedir.MinRemaining

// Dir is where tokens are cached: OCICRED_CACHE_DIR, else the daemon's
// state folder for root, else the user's cache folder (cachedir.Dir, which
// the credential helper shares).
func Dir() (string, error) { return cachedir.Dir() }

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

// Name is the file name of an identity's token: one file per (identity,
// region) key, however many registries share it (issue 13: 1,000
// registries over 30 identities keep 30 files, not 1,000).
func Name(identity string) string {
	// Keys of other clouds than ECR say their type first ("gar:…").
	if typ, rest, ok := strings.Cut(identity, ":"); ok {
		return typ + "-" + rest + ".json"
	}
	return "ecr-" + identity + ".json"
}

// legacyName is the file name of a registry's token in the layout before
// one file per identity; Migrate reads such files once and removes them.
func legacyName(registry, identity string) string {
	return "ecr-" + registry + "-" + identity + ".json"
}

// Migrate moves the tokens of identity kept in the layout of one file per
// registry (for registries) into the identity's own file, keeping the
// latest one still valid, and removes the old files. A token already in
// the identity's file wins over an older one. Errors are the cache's
// (an *UnsafeError for a folder others may write); a missing folder or
// no old file is no error.
func (c *Cache) Migrate(identity string, registries []string) error {
	var best creds.Token
	var found []string
	for _, r := range registries {
		name := legacyName(r, identity)
		if _, err := os.Lstat(filepath.Join(c.dir, name)); err != nil {
			continue
		}
		found = append(found, name)
		if tok, err := c.LastGood(name); err == nil && tok.ExpiresAt.After(best.ExpiresAt) {
			best = tok
		}
	}
	if len(found) == 0 {
		return nil
	}
	if cur, err := c.LastGood(Name(identity)); best.Password.IsZero() || (err == nil && !cur.ExpiresAt.Before(best.ExpiresAt)) {
		best = creds.Token{}
	}
	if !best.Password.IsZero() {
		if err := c.Put(Name(identity), best); err != nil {
			return err
		}
	}
	for _, name := range found {
		if err := os.Remove(filepath.Join(c.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("token cache: %w", err)
		}
	}
	return nil
}

// ErrNoToken is Get's answer when the cache holds no token for the name,
// or one with less than MinRemaining left.
var ErrNoToken = cachedir.ErrNoToken

// UnsafeError: the cache folder or a file in it could have been written
// by another user, so the cache is not used. Reason says what to do.
type UnsafeError = cachedir.UnsafeError

// Get returns the cached token in file name when it has at least
// MinRemaining left. The error is ErrNoToken, an *UnsafeError, or the
// error of reading the file.
func (c *Cache) Get(name string) (creds.Token, error) { return c.get(name, MinRemaining) }

// LastGood returns the cached token in file name while it has not expired,
// however little life it has left: what to serve when AWS fails, as the
// daemon serves its last good token until it expires. Errors as Get.
func (c *Cache) LastGood(name string) (creds.Token, error) { return c.get(name, time.Nanosecond) }

// get returns the cached token in file name when it has at least minLeft
// left.
func (c *Cache) get(name string, minLeft time.Duration) (creds.Token, error) {
	pw, exp, err := cachedir.ReadToken(c.dir, name, c.now(), minLeft)
	if err != nil {
		return creds.Token{}, err
	}
	return creds.Token{Password: pw, ExpiresAt: exp}, nil
}

// Put stores a token atomically with mode 0600. It refuses a folder that
// Get would refuse (an *UnsafeError).
func (c *Cache) Put(name string, tok creds.Token) error {
	return cachedir.WriteToken(c.dir, name, tok.Password, tok.ExpiresAt)
}
