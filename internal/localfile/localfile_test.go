package localfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// mustNotBlock fails the test when read has not returned after 10 s: the
// reads here must return at once, and would block for good without the fix.
func mustNotBlock(t *testing.T, read func() ([]byte, error)) ([]byte, error) {
	t.Helper()
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() { d, err := read(); done <- result{d, err} }()
	select {
	case r := <-done:
		return r.data, r.err
	case <-time.After(10 * time.Second):
		t.Fatal("read still blocks after 10s")
		return nil, nil
	}
}

func TestReadRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, "/dev/zero", "/dev/null", dir} {
		_, err := mustNotBlock(t, func() ([]byte, error) { return Rules{Limit: 64}.Read(path) })
		if !errors.Is(err, ErrNotRegular) {
			t.Errorf("Read(%s) = %v, want ErrNotRegular", path, err)
		}
	}
}

func TestReadStopsAtTheLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil { // 1 GiB, sparse
		t.Fatal(err)
	}
	f.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = Rules{Limit: 64 << 10}.Read(path)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Read = %v, want ErrTooLarge", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Errorf("reading a 1 GiB file with a 64 KiB limit allocated %d bytes", grew)
	}
	if err := os.WriteFile(path, make([]byte, 64<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	if data, err := (Rules{Limit: 64 << 10}).Read(path); err != nil || len(data) != 64<<10 {
		t.Errorf("Read(exactly the limit) = %d bytes, %v", len(data), err)
	}
}

func TestReadNoFollowAndCheck(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	link := filepath.Join(dir, "link")
	if err := os.WriteFile(target, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := (Rules{Limit: 8, NoFollow: true}).Read(link); !errors.Is(err, ErrSymlink) {
		t.Errorf("Read(link, NoFollow) = %v, want ErrSymlink", err)
	}
	if data, err := (Rules{Limit: 8}).Read(link); err != nil || string(data) != "x" {
		t.Errorf("Read(link) = %q, %v", data, err)
	}
	refuse := errors.New("group or others may write it")
	check := func(fi fs.FileInfo) error {
		if fi.Mode().Perm()&0o022 != 0 {
			return refuse
		}
		return nil
	}
	if err := os.Chmod(target, 0o664); err != nil {
		t.Fatal(err)
	}
	if _, err := (Rules{Limit: 8, Check: check}).Read(target); !errors.Is(err, refuse) {
		t.Errorf("Read with Check = %v, want the Check's error", err)
	}
}

// TestReadGivesUpOnAHungFileSystem stands in for a hung network mount with
// an open that never returns: Read returns ErrTimeout, and a second Read of
// the same path fails at once instead of starting another stuck open.
func TestReadGivesUpOnAHungFileSystem(t *testing.T) {
	release := make(chan struct{})
	var opens atomic.Int32
	r := Rules{Limit: 8, Timeout: 10 * time.Millisecond, open: func(string, int) (*os.File, error) {
		opens.Add(1)
		<-release
		return nil, fs.ErrNotExist
	}}
	path := filepath.Join(t.TempDir(), "on-a-hung-mount")
	t.Cleanup(func() {
		close(release)
		for { // the stuck read finishes and lets go of the path
			if _, stuck := hanging.Load(path); !stuck {
				return
			}
			runtime.Gosched()
		}
	})
	for i := range 3 {
		if _, err := mustNotBlock(t, func() ([]byte, error) { return r.Read(path) }); !errors.Is(err, ErrTimeout) {
			t.Fatalf("Read %d = %v, want ErrTimeout", i, err)
		}
	}
	if n := opens.Load(); n != 1 {
		t.Errorf("%d opens of a path whose first open hangs, want 1", n)
	}
}
