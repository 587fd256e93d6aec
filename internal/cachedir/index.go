package cachedir

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ocicred/ocicred/internal/secret"
)

// IndexName is the index file's name in the cache folder: a JSON object
// written by Record and read by Lookup (format version indexVersion).
const IndexName = "answers.json"

// Bounds of the index: MaxAnswers answers (the oldest go first), at most
// MaxFiles files each, and maxIndex bytes in all.
const (
	MaxAnswers = 64
	MaxFiles   = 16
	maxIndex   = 1 << 20
)

// indexVersion is the index format; a file of another version is ignored
// (and replaced by the next Record).
const indexVersion = 1

// Stamp is one version of a file: what stat(2) says of it, links followed
// (as the config and its secret files are read). An edit, a rename over
// it, a link switched to a new target (a Kubernetes Secret's rotation) or
// a chmod changes at least the inode, the size, or the change time, which
// no user can set back.
type Stamp struct {
	Path  string `json:"path"`
	Size  int64  `json:"size"`
	Mtime int64  `json:"mtimeNs"` // modification time, Unix nanoseconds
	Ctime int64  `json:"ctimeNs"` // inode change time, Unix nanoseconds
	Ino   uint64 `json:"ino"`
	Dev   uint64 `json:"dev"`
}

// StampFile stats path. The error is os.Stat's.
func StampFile(path string) (Stamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return Stamp{}, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return Stamp{}, fmt.Errorf("%s: no inode to stamp", path)
	}
	return Stamp{Path: path, Size: fi.Size(), Mtime: fi.ModTime().UnixNano(),
		Ctime: time.Unix(st.Ctim.Unix()).UnixNano(), Ino: st.Ino, Dev: uint64(st.Dev)}, nil
}

// Answer is one daemon-less answer of a token registry (never a Basic
// one: no password goes to disk) and everything it depended on, as
// `ocicred get` records it for the helper.
type Answer struct {
	Host     string // the address asked, as hostkey.Key normalises it
	Registry string // the registry's name, for the helper's debug line
	User     string // the user name the answer gave
	Token    string // the token's file name in the cache folder
	// Socket is the daemon socket `ocicred get` asks when OCICRED_SOCKET is
	// not set: the config's, or the default.
	Socket string
	// Config is the config file as it was before it was read; Files are
	// the files the answer read (secret files, CA), stamped before reading.
	Config Stamp
	Files  []Stamp
	// Env names the variables the answer read (secretAccessKeyEnv and the
	// like); Record keeps a salted hash of each value, never the value.
	Env []string
}

// entry is an Answer as the index keeps it.
type entry struct {
	Registry string            `json:"registry"`
	User     string            `json:"user"`
	Token    string            `json:"token"`
	Socket   string            `json:"socket"`
	UID      int               `json:"uid"`
	EUID     int               `json:"euid"`
	Config   Stamp             `json:"config"`
	Files    []Stamp           `json:"files"`
	Env      map[string]string `json:"env"` // name → envStamp
	Recorded time.Time         `json:"recorded"`
}

// index is the index file's JSON.
type index struct {
	Version int              `json:"version"`
	Salt    string           `json:"salt"` // hex; random per index, for envStamp
	Answers map[string]entry `json:"answers"`
}

// envStamp is a salted hash of a variable's value (or of its absence).
func envStamp(salt, name string, lookup func(string) (string, bool)) string {
	v, ok := lookup(name)
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%t\x00%s", salt, name, ok, v)
	return hex.EncodeToString(h.Sum(nil))
}

// readIndex reads the index of dir. A missing or unreadable-as-JSON
// index, or one of another version, is an empty index; the errors are
// ReadFile's others (an *UnsafeError for a folder or file others may
// write).
func readIndex(dir string) (index, error) {
	data, err := ReadFile(dir, IndexName, maxIndex)
	var ix index
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return index{}, err
	default:
		if json.Unmarshal(data, &ix) != nil || ix.Version != indexVersion {
			ix = index{}
		}
	}
	if ix.Answers == nil {
		ix = index{Version: indexVersion, Answers: map[string]entry{}}
	}
	return ix, nil
}

// Record adds a to the index of dir (replacing the answer for a.Host),
// with the values of a.Env as lookup gives them (os.LookupEnv) hashed, at
// now. The index keeps at most MaxAnswers answers, dropping the oldest;
// an answer with more than MaxFiles files is not recorded. It writes as
// WriteFile does; errors are ReadFile's and WriteFile's. Two processes
// recording at once may lose one answer: the helper then runs `ocicred
// get` once more.
func Record(dir string, a Answer, lookup func(string) (string, bool), now time.Time) error {
	if len(a.Files) > MaxFiles || a.Host == "" || a.Token == "" {
		return nil
	}
	ix, err := readIndex(dir)
	if err != nil {
		return err
	}
	if ix.Salt == "" {
		// getrandom(2) rather than crypto/rand, whose package set the
		// helper would then link and start.
		var b [16]byte
		if n, err := unix.Getrandom(b[:], 0); err != nil || n != len(b) {
			return fmt.Errorf("token cache: getrandom: %d bytes, %v", n, err)
		}
		ix.Salt = hex.EncodeToString(b[:])
	}
	e := entry{Registry: a.Registry, User: a.User, Token: a.Token, Socket: a.Socket,
		UID: os.Getuid(), EUID: os.Geteuid(), Config: a.Config, Files: a.Files,
		Env: map[string]string{}, Recorded: now.UTC()}
	for _, name := range a.Env {
		e.Env[name] = envStamp(ix.Salt, name, lookup)
	}
	if old, ok := ix.Answers[a.Host]; ok && sameAnswer(old, e) {
		return nil // every answer of `ocicred get` would otherwise write and sync
	}
	ix.Answers[a.Host] = e
	for {
		for len(ix.Answers) > MaxAnswers {
			dropOldest(ix.Answers)
		}
		data, err := json.Marshal(ix)
		if err != nil {
			return err
		}
		if len(data) <= maxIndex {
			return WriteFile(dir, IndexName, data)
		}
		if len(ix.Answers) == 1 {
			return nil // one answer with huge paths: not worth keeping
		}
		dropOldest(ix.Answers)
	}
}

// sameAnswer reports whether a and b record the same answer on the same
// grounds, whenever they were recorded.
func sameAnswer(a, b entry) bool {
	a.Recorded, b.Recorded = time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

// dropOldest removes the answer recorded first.
func dropOldest(answers map[string]entry) {
	hosts := make([]string, 0, len(answers))
	for h := range answers {
		hosts = append(hosts, h)
	}
	oldest := slices.MinFunc(hosts, func(a, b string) int { return answers[a].Recorded.Compare(answers[b].Recorded) })
	delete(answers, oldest)
}

// Query is what the helper knows when it looks an answer up.
type Query struct {
	Host       string // the address asked, as hostkey.Key normalises it
	ConfigPath string // the config file `ocicred get` would be told to read
	// Socket is the socket the helper found without an answering daemon.
	// SocketFromEnv: OCICRED_SOCKET named it, so `ocicred get` would ask it
	// too whatever the config says; otherwise `ocicred get` asks the
	// config's socket, and the answer holds only when that is Socket.
	Socket        string
	SocketFromEnv bool
	LookupEnv     func(string) (string, bool) // os.LookupEnv
	Now           time.Time
}

// Hit is a recorded answer that still holds.
type Hit struct {
	Registry  string
	User      string
	Password  secret.Secret
	ExpiresAt time.Time
}

// MissError: the index holds no answer for the query that still holds.
// Reason says why, naming no secret.
type MissError struct{ Reason string }

// Error is "no cached answer: " and the reason.
func (e *MissError) Error() string { return "no cached answer: " + e.Reason }

func miss(format string, args ...any) error { return &MissError{Reason: fmt.Sprintf(format, args...)} }

// Lookup finds the answer recorded for q.Host in the index of dir and
// checks that `ocicred get` would give it now: same user, same config
// path, the socket it would ask is the one found down, every stamped file
// unchanged, every variable's value unchanged, and the token file holds a
// token with more than MinRemaining left at q.Now. The error is a
// *MissError, or an *UnsafeError (the folder, the index or the token file
// could have been written by another user), or a read's error.
func Lookup(dir string, q Query) (Hit, error) {
	data, err := ReadFile(dir, IndexName, maxIndex)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Hit{}, miss("no index in %s", dir)
	case err != nil:
		return Hit{}, err
	}
	var ix index
	if json.Unmarshal(data, &ix) != nil || ix.Version != indexVersion {
		return Hit{}, miss("the index is not of format %d", indexVersion)
	}
	e, ok := ix.Answers[q.Host]
	switch {
	case !ok:
		return Hit{}, miss("none recorded for %s", q.Host)
	case e.Token == "" || e.Token == "." || e.Token == ".." || filepath.Base(e.Token) != e.Token || e.Token == IndexName:
		return Hit{}, miss("the recorded token file is not a name in the folder")
	case e.UID != os.Getuid() || e.EUID != os.Geteuid():
		return Hit{}, miss("recorded by uid %d", e.UID)
	case e.Config.Path != q.ConfigPath:
		return Hit{}, miss("recorded for the config %s", e.Config.Path)
	case !q.SocketFromEnv && e.Socket != q.Socket:
		return Hit{}, miss("the config names the socket %s", e.Socket)
	}
	for _, s := range append([]Stamp{e.Config}, e.Files...) {
		if now, err := StampFile(s.Path); err != nil || now != s {
			return Hit{}, miss("%s changed", s.Path)
		}
	}
	for name, stamp := range e.Env {
		if envStamp(ix.Salt, name, q.LookupEnv) != stamp {
			return Hit{}, miss("$%s changed", name)
		}
	}
	pw, exp, err := ReadToken(dir, e.Token, q.Now, MinRemaining)
	switch {
	case errors.Is(err, ErrNoToken):
		return Hit{}, miss("no token with more than %s left", MinRemaining)
	case err != nil:
		return Hit{}, err
	}
	return Hit{Registry: e.Registry, User: e.User, Password: pw, ExpiresAt: exp}, nil
}
