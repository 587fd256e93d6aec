package cachedir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/google/renameio/v2"

	"github.com/ocicred/ocicred/internal/defaults"
	"github.com/ocicred/ocicred/internal/localfile"
)

// Dir is the cache folder: OCICRED_CACHE_DIR, else the daemon's state
// folder for root, else the user's cache folder (os.UserCacheDir, then
// "ocicred"). The error says to set OCICRED_CACHE_DIR when there is no
// user cache folder.
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

// UnsafeError: the cache folder or a file in it could have been written
// by another user, so the cache is not used. Reason says what to do.
type UnsafeError struct {
	Path   string
	Reason string
}

// Error names the path and says what is wrong with it and what to do.
func (e *UnsafeError) Error() string { return "token cache: " + e.Path + " " + e.Reason }

// CheckDir refuses a cache folder that is a link, is not a folder, belongs
// to another user or is open to others (an *UnsafeError): anyone who can
// write there can plant a file. A missing folder is the error of Lstat
// (fs.ErrNotExist).
func CheckDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return &UnsafeError{Path: dir, Reason: "is a symbolic link; set OCICRED_CACHE_DIR to the folder itself"}
	case !fi.IsDir():
		return &UnsafeError{Path: dir, Reason: "is not a folder; remove it, or set OCICRED_CACHE_DIR to a folder"}
	}
	return owned(dir, fi, "folder", "chmod 700 it")
}

// ReadFile returns the contents of the file name in dir, at most limit
// bytes, after CheckDir and with the file's own checks: not a link, a
// regular file, this user's and closed to others. Errors wrap
// fs.ErrNotExist (no folder or no file), or are an *UnsafeError, or the
// read's error; none names any content.
func ReadFile(dir, name string, limit int64) ([]byte, error) {
	if err := CheckDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name)
	data, err := localfile.Rules{Limit: limit, NoFollow: true, Check: ownedFile(path)}.Read(path)
	switch {
	case err == nil:
		return data, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, err
	case errors.Is(err, localfile.ErrSymlink):
		return nil, &UnsafeError{Path: path, Reason: "is a symbolic link, which ocicred never writes; remove it"}
	case errors.Is(err, localfile.ErrNotRegular):
		return nil, &UnsafeError{Path: path, Reason: "is not a regular file; remove it"}
	}
	return nil, fmt.Errorf("token cache: %w", err)
}

// WriteFile stores data as the file name in dir, atomically (a temporary
// file in dir, synced, renamed) with mode 0600, creating dir with mode
// 0700. It refuses a folder that ReadFile would refuse (an *UnsafeError).
func WriteFile(dir, name string, data []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	if err := CheckDir(dir); err != nil {
		return err
	}
	if err := renameio.WriteFile(filepath.Join(dir, name), data, 0o600, renameio.WithTempDir(dir)); err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	return nil
}

// ownedFile is the localfile check of a cache file.
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
