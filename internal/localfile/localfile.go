// Package localfile reads the small local files that a config names and
// that a person, or another user, may have pointed anywhere: a secret file,
// the config itself, a CA, a cached token. It opens without blocking (a
// FIFO with no writer or a device does not hang the open), refuses anything
// but a regular file by looking at the open file (so a swap after the
// check changes nothing), never reads past a bound (/dev/zero or a huge
// file costs at most the bound), and gives up waiting on a file system that
// does not answer (a hung network mount), so that a reload that needs the
// file fails instead of hanging for good.
package localfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

var (
	// ErrNotRegular: the path is a FIFO, a socket, a device or a folder.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge: the file holds more than the bound.
	ErrTooLarge = errors.New("larger than allowed")
	// ErrSymlink: Rules.NoFollow is set and the path's last part is a
	// symbolic link.
	ErrSymlink = errors.New("is a symbolic link")
	// ErrTimeout: the open or the read did not finish in time; the file
	// system may hang (a network mount). An earlier read of the same path
	// that still hangs makes later ones fail at once.
	ErrTimeout = errors.New("did not open or read in time; a hung network mount?")
)

// Rules say how Read treats a file.
type Rules struct {
	// Limit is the most bytes a file may hold; one byte more is
	// ErrTooLarge. Required: a zero Limit allows only empty files.
	Limit int64
	// NoFollow refuses a symbolic link as the path's last part (O_NOFOLLOW).
	NoFollow bool
	// Check, when set, sees the open file's information before anything is
	// read, and refuses it by returning an error (an owner or a mode that
	// others could have written).
	Check func(fs.FileInfo) error
	// Timeout bounds the wait for the open and the read; zero waits as long
	// as the kernel does.
	Timeout time.Duration

	open func(path string, flags int) (*os.File, error) // tests stand in for a hung mount
}

// Read returns the contents of the regular file at path, or an error that
// wraps ErrNotRegular, ErrTooLarge, ErrSymlink, ErrTimeout, the error of
// Check, or the *fs.PathError of the open. The errors name no content.
func (r Rules) Read(path string) ([]byte, error) {
	if r.Timeout <= 0 {
		return r.read(path)
	}
	return r.readWithin(path)
}

func (r Rules) read(path string) ([]byte, error) {
	flags := os.O_RDONLY | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC
	if r.NoFollow {
		flags |= unix.O_NOFOLLOW
	}
	open := r.open
	if open == nil {
		open = func(path string, flags int) (*os.File, error) { return os.OpenFile(path, flags, 0) }
	}
	f, err := open(path, flags)
	if err != nil {
		if r.NoFollow && errors.Is(err, unix.ELOOP) {
			return nil, ErrSymlink
		}
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s", ErrNotRegular, typeName(fi.Mode()))
	}
	if r.Check != nil {
		if err := r.Check(fi); err != nil {
			return nil, err
		}
	}
	data, err := io.ReadAll(io.LimitReader(f, r.Limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > r.Limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, r.Limit)
	}
	return data, nil
}

// hanging holds the paths whose read still blocks after its caller gave
// up: later reads of such a path fail at once instead of leaving one more
// goroutine behind each.
var hanging sync.Map // path → *pending

// pending is one read that runs in its own goroutine.
type pending struct {
	mu       sync.Mutex
	finished bool
}

func (r Rules) readWithin(path string) ([]byte, error) {
	if _, stuck := hanging.Load(path); stuck {
		return nil, ErrTimeout
	}
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	p := &pending{}
	go func() {
		data, err := r.read(path)
		done <- result{data, err}
		p.mu.Lock()
		p.finished = true
		p.mu.Unlock()
		hanging.CompareAndDelete(path, p)
	}()
	t := time.NewTimer(r.Timeout)
	defer t.Stop()
	select {
	case res := <-done:
		return res.data, res.err
	case <-t.C:
		p.mu.Lock()
		if !p.finished {
			hanging.Store(path, p)
		}
		p.mu.Unlock()
		return nil, ErrTimeout
	}
}

// typeName says what a file that is not regular is, in a user's words.
func typeName(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "not a plain file"
}
