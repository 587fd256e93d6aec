package cachedir

import (
	"encoding/json"
	"errors"
	"io/fs"
	"time"

	"github.com/ocicred/ocicred/internal/secret"
)

// MinRemaining is how much life a cached token must have left to be used
// without asking the cloud for a new one.
const MinRemaining = 5 * time.Minute

// maxToken bounds a token file, in bytes: an ECR token is about 2 KiB.
const maxToken = 64 << 10

// ErrNoToken: the cache holds no token under that name, or one with too
// little life left, or a file that is not a token.
var ErrNoToken = errors.New("no usable token in the cache")

// tokenFile is a token file's JSON: {"password": "...", "expiresAt": RFC 3339}.
type tokenFile struct {
	Password  string    `json:"password"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// ReadToken returns the token in the file name of dir and when it expires,
// when it has at least minLeft left at now. Errors are ErrNoToken (no
// folder, no file, a file that is not a token, too little life left), an
// *UnsafeError, or the read's error.
func ReadToken(dir, name string, now time.Time, minLeft time.Duration) (secret.Secret, time.Time, error) {
	data, err := ReadFile(dir, name, maxToken)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return secret.Secret{}, time.Time{}, ErrNoToken
	case err != nil:
		return secret.Secret{}, time.Time{}, err
	}
	var f tokenFile
	if json.Unmarshal(data, &f) != nil || f.Password == "" || f.ExpiresAt.Sub(now) < minLeft {
		return secret.Secret{}, time.Time{}, ErrNoToken
	}
	return secret.New(f.Password), f.ExpiresAt, nil
}

// WriteToken stores a token and when it expires as the file name of dir,
// as WriteFile does (atomically, mode 0600; an *UnsafeError for a folder
// others may write).
func WriteToken(dir, name string, password secret.Secret, expiresAt time.Time) error {
	data, err := json.Marshal(tokenFile{Password: password.Reveal(), ExpiresAt: expiresAt.UTC()})
	if err != nil {
		return err
	}
	return WriteFile(dir, name, data)
}
