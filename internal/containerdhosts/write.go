package containerdhosts

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// The files below containerd's hosts folder hold credentials and are
// written as root, so they are reached one step at a time from an open
// folder, with O_NOFOLLOW at each step: a symbolic link planted at
// <hostsDir>/<host> or at <host>/hosts.toml is refused, never followed, and
// root writes the Authorization header nowhere else. The folders on the
// way (hostsDir and <host>) must belong to the daemon's user and be
// writable by no one else, or someone else could swap what is in them.
// Temp files that an interrupted write left (.hosts.toml<digits>, holding
// the header) are removed at start and on every write.

// tempPrefix starts the name of a hosts.toml being written; digits follow.
const tempPrefix = "." + FileName

// maxHostsFile bounds what readOurs reads, in bytes: ours are about 1 KiB.
const maxHostsFile = 1 << 20

// errNotOurs: a hosts.toml exists that ocicred did not write.
var errNotOurs = errors.New("was not written by ocicred; left alone")

// errLink: a symbolic link where the daemon would write.
var errLink = errors.New("is a symbolic link; ocicred follows no links below containerd.hostsDir: remove it")

// openFolder opens the folder name inside parent (or the path name when
// parent is nil) without following a link as its last part, creating it
// with mode 0755 when create, and refuses a folder that another user owns
// or others may write to.
func openFolder(parent *os.File, name string, create bool) (*os.File, error) {
	dirfd, path := unix.AT_FDCWD, name
	if parent != nil {
		if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') {
			return nil, fmt.Errorf("%q is not a folder name", name)
		}
		dirfd, path = int(parent.Fd()), filepath.Join(parent.Name(), name)
	}
	flags := unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC
	if parent != nil {
		flags |= unix.O_NOFOLLOW // hostsDir itself is the operator's to link
	}
	fd, err := unix.Openat(dirfd, name, flags, 0)
	if errors.Is(err, unix.ENOENT) && create {
		if parent == nil {
			err = os.MkdirAll(name, 0o755)
		} else {
			err = unix.Mkdirat(dirfd, name, 0o755)
		}
		if err == nil || errors.Is(err, unix.EEXIST) {
			fd, err = unix.Openat(dirfd, name, flags, 0)
		}
	}
	if err != nil {
		var st unix.Stat_t
		if parent != nil && unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return nil, fmt.Errorf("%s %w", path, errLink)
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	if err := ownedByUs(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ownedByUs refuses a folder of another user, or one others may write to.
func ownedByUs(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !ok:
		return fmt.Errorf("%s has no owner to check", f.Name())
	case int(st.Uid) != os.Geteuid():
		return fmt.Errorf("%s belongs to uid %d, not to the daemon's user (uid %d); ocicred writes credentials only into folders no one else can change: chown it", f.Name(), st.Uid, os.Geteuid())
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("%s may be written by others (mode %04o); ocicred writes credentials only into folders no one else can change: chmod go-w it", f.Name(), fi.Mode().Perm())
	}
	return nil
}

// Write puts f at Path(dir, f.Host), atomically and with mode FileMode,
// unless the file already holds exactly that: changed says whether it
// wrote. It creates the folders (0755), refuses a symbolic link on the
// way, a folder another user owns or others may write to, and a hosts.toml
// it did not write (IsOurs), and removes the temp files of interrupted
// writes first. Errors name the path and never the content.
func Write(dir string, f File) (changed bool, err error) {
	return writeFile(dir, f.Host, f.data)
}

func writeFile(dir, host string, data []byte) (changed bool, err error) {
	path := Path(dir, host)
	root, err := openFolder(nil, dir, true)
	if err != nil {
		return false, fmt.Errorf("cannot write %s: %w", path, bare(err))
	}
	defer root.Close()
	folder, err := openFolder(root, Folder(host), true)
	if err != nil {
		if errors.Is(err, errLink) {
			return false, err
		}
		return false, fmt.Errorf("cannot write %s: %w", path, bare(err))
	}
	defer folder.Close()
	removeStaleTemps(folder)
	old, mode, err := readOurs(folder, path)
	if err != nil {
		return false, err
	}
	if old != nil && bytes.Equal(old, data) && mode.Perm() == FileMode {
		return false, nil
	}
	if err := replaceAt(folder, data); err != nil {
		return false, fmt.Errorf("cannot write %s: %w", path, bare(err))
	}
	return true, nil
}

// replaceAt writes data to a new temp file in folder and renames it over
// hosts.toml: a reader sees the old file or the new one, whole.
func replaceAt(folder *os.File, data []byte) error {
	dirfd := int(folder.Fd())
	tmp := tempPrefix + strconv.FormatUint(rand.Uint64(), 10)
	fd, err := unix.Openat(dirfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, FileMode)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), filepath.Join(folder.Name(), tmp))
	renamed := false
	defer func() {
		f.Close()
		if !renamed {
			_ = unix.Unlinkat(dirfd, tmp, 0)
		}
	}()
	if err := f.Chmod(FileMode); err != nil { // the umask may have taken bits away
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := unix.Renameat(dirfd, tmp, dirfd, FileName); err != nil {
		return err
	}
	renamed = true
	_ = unix.Fsync(dirfd) // the rename itself survives a crash
	return nil
}

// readOurs returns folder's hosts.toml and its mode if the daemon wrote
// it, nil if there is none, and errNotOurs if something else is there: a
// link, a file that is not regular, or one without the marker. path is the
// file's name for messages.
func readOurs(folder *os.File, path string) ([]byte, fs.FileMode, error) {
	fd, err := unix.Openat(int(folder.Fd()), FileName, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	switch {
	case errors.Is(err, unix.ENOENT):
		return nil, 0, nil
	case errors.Is(err, unix.ELOOP):
		return nil, 0, fmt.Errorf("%s %w", path, errNotOurs)
	case err != nil:
		return nil, 0, fmt.Errorf("cannot read %s: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("cannot read %s: %w", path, bare(err))
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("%s %w", path, errNotOurs)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxHostsFile+1))
	if err != nil {
		return nil, 0, fmt.Errorf("cannot read %s: %w", path, bare(err))
	}
	if len(data) > maxHostsFile || !IsOurs(data) {
		return nil, 0, fmt.Errorf("%s %w", path, errNotOurs)
	}
	return data, fi.Mode(), nil
}

// removeStaleTemps removes from folder the temp files of writes that were
// interrupted (.hosts.toml<digits>): regular files, empty or starting with
// the marker. Anything else is left alone.
func removeStaleTemps(folder *os.File) {
	names, err := folder.Readdirnames(-1)
	if err != nil {
		return
	}
	dirfd := int(folder.Fd())
	for _, name := range names {
		digits := strings.TrimPrefix(name, tempPrefix)
		if digits == name || digits == "" || strings.Trim(digits, "0123456789") != "" {
			continue
		}
		if isOurTemp(dirfd, name) {
			_ = unix.Unlinkat(dirfd, name, 0)
		}
	}
}

func isOurTemp(dirfd int, name string) bool {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	head := make([]byte, len(markerPrefix))
	n, _ := io.ReadFull(f, head)
	return bytes.HasPrefix([]byte(markerPrefix), head[:n]) // empty, or a start of ours
}

// Prune removes, below dir, the hosts.toml files ocicred wrote for hosts
// that keep (by host) does not hold, and their folders once empty; and in
// every host's folder, the temp files of interrupted writes. It follows no
// link, and leaves alone any file it did not write and any folder that is
// not the daemon's user's alone. What it removes, and what it could not,
// goes to log. A dir that does not exist is nothing to prune.
func Prune(log *slog.Logger, dir string, keep map[string]bool) {
	root, err := openFolder(nil, dir, false)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			log.Warn("containerd hosts folder not usable", "dir", dir, "err", err)
		}
		return
	}
	defer root.Close()
	entries, err := root.ReadDir(-1)
	if err != nil {
		log.Warn("containerd hosts folder not readable", "dir", dir, "err", err)
		return
	}
	kept := map[string]bool{}
	for host, ok := range keep {
		if ok {
			kept[Folder(host)] = true
		}
	}
	for _, e := range entries {
		if e.IsDir() {
			pruneFolder(log, root, e.Name(), kept[e.Name()])
		}
	}
}

// pruneFolder cleans one host's folder; unless keep, it removes the
// hosts.toml the daemon wrote there, and the folder once empty.
func pruneFolder(log *slog.Logger, root *os.File, name string, keep bool) {
	folder, err := openFolder(root, name, false)
	if err != nil {
		return // a link, or a folder that is not ours to change
	}
	defer folder.Close()
	removeStaleTemps(folder)
	if keep {
		return
	}
	path := filepath.Join(root.Name(), name, FileName)
	if data, _, err := readOurs(folder, path); err != nil || data == nil {
		return // not ours, or no file: none of our business
	}
	if err := unix.Unlinkat(int(folder.Fd()), FileName, 0); err != nil {
		log.Warn("containerd hosts.toml not removed", "path", path, "err", err)
		return
	}
	_ = unix.Unlinkat(int(root.Fd()), name, unix.AT_REMOVEDIR) // only when empty
	log.Info("containerd hosts.toml removed: the registry left the config", "path", path)
}

// bare drops the path an *os.PathError repeats (the temp file's name).
func bare(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
