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
// for reading as for writing, with an *UnsafeError.
package tokencache

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/google/renameio/v2"

	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/defaults"
	"github.com/ocicred/ocicred/internal/localfile"
	"github.com/ocicred/ocicred/internal/secret"
)

// MinRemaining is how much life a cached token must have left to be used.
const MinRemaining = 5 * time.Minute

// Dir is where tokens are cached: OCICRED_CACHE_DIR, else the daemon's
// state folder for root, else the user's cache folder.
func Dir() (string, error) {
	if d := os.Getenv(defaults.EnvCacheDir); d != "" {
		return d, nil
	}
	if os.Getuid() == 0 {
		return defaults.StateDir, nil
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
var ErrNoToken = errors.New("no usable token in the cache")

// UnsafeError: the cache folder or a file in it could have been written
// by another user, so the cache is not used. Reason says what to do.
type UnsafeError struct {
	Path   string
	Reason string
}

// Error names the path and says what is wrong with it and what to do.
func (e *UnsafeError) Error() string { return "token cache: " + e.Path + " " + e.Reason }

// maxEntry bounds a token file, in bytes: an ECR token is about 2 KiB.
const maxEntry = 64 << 10

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
	if err := c.checkDir(); errors.Is(err, fs.ErrNotExist) {
		return creds.Token{}, ErrNoToken
	} else if err != nil {
		return creds.Token{}, err
	}
	path := filepath.Join(c.dir, name)
	data, err := localfile.Rules{Limit: maxEntry, NoFollow: true, Check: ownedFile(path)}.Read(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return creds.Token{}, ErrNoToken
	case errors.Is(err, localfile.ErrSymlink):
		return creds.Token{}, &UnsafeError{Path: path, Reason: "is a symbolic link, which ocicred never writes; remove it"}
	case errors.Is(err, localfile.ErrNotRegular):
		return creds.Token{}, &UnsafeError{Path: path, Reason: "is not a regular file; remove it"}
	case err != nil:
		return creds.Token{}, fmt.Errorf("token cache: %w", err)
	}
	var e entry
	if json.Unmarshal(data, &e) != nil || e.Password == "" || e.ExpiresAt.Sub(c.now()) < minLeft {
		return creds.Token{}, ErrNoToken
	}
	return creds.Token{Password: secret.New(e.Password), ExpiresAt: e.ExpiresAt}, nil
}

// Put stores a token atomically with mode 0600. It refuses a folder that
// Get would refuse (an *UnsafeError).
func (c *Cache) Put(name string, tok creds.Token) error {
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	if err := c.checkDir(); err != nil {
		return err
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

// checkDir refuses a cache folder that is a link, belongs to another user
// or is open to others: anyone who can write there can plant a token.
func (c *Cache) checkDir() error {
	fi, err := os.Lstat(c.dir)
	if err != nil {
		return err
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return &UnsafeError{Path: c.dir, Reason: "is a symbolic link; set OCICRED_CACHE_DIR to the folder itself"}
	case !fi.IsDir():
		return &UnsafeError{Path: c.dir, Reason: "is not a folder; remove it, or set OCICRED_CACHE_DIR to a folder"}
	}
	return owned(c.dir, fi, "folder", "chmod 700 it")
}

// ownedFile is the localfile check of a token file.
func ownedFile(path string) func(fs.FileInfo) error {
	return func(fi fs.FileInfo) error { return owned(path, fi, "file", "remove it") }
}

// owned refuses what belongs to another user or is open to others.
func owned(path string, fi fs.FileInfo, what, fix string) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !ok:
		return &UnsafeError{Path: path, Reason: "has no owner to check"}
	case int(st.Uid) != os.Geteuid():
		return &UnsafeError{Path: path, Reason: fmt.Sprintf("belongs to uid %d, not to this user (uid %d), who alone may write the token %s; remove it, or set OCICRED_CACHE_DIR to a folder of your own",
			st.Uid, os.Geteuid(), what)}
	case fi.Mode().Perm()&0o077 != 0:
		return &UnsafeError{Path: path, Reason: fmt.Sprintf("is open to other users (mode %04o); %s", fi.Mode().Perm(), fix)}
	}
	return nil
}
