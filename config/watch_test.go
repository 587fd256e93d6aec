package config

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// watchGuard bounds every wait for the watcher's next change: it turns a
// change that never comes into a failure rather than a hung test, and is
// no deadline the watcher must meet.
const watchGuard = time.Minute

// watcher is a Watcher running for a test; changed hears each onChange.
type watcher struct {
	t       *testing.T
	path    string
	wt      *Watcher
	changed chan struct{}
}

// watchFile starts Watch on path.
func watchFile(t *testing.T, path string) *watcher {
	t.Helper()
	return watchDebounced(t, path, 20*time.Millisecond)
}

// watchDebounced starts Watch on path with the given debounce.
func watchDebounced(t *testing.T, path string, debounce time.Duration) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	wt, err := NewWatcher(path, debounce, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	w := &watcher{t: t, path: path, wt: wt, changed: make(chan struct{}, 100)}
	go func() {
		defer close(done)
		_ = wt.Run(ctx, func() { w.changed <- struct{}{} })
	}()
	t.Cleanup(func() { cancel(); <-done })
	return w
}

// until waits for the watcher's changes, one by one, until one finds the
// file as ok wants it (what says how, for the failure).
func (w *watcher) until(what string, ok func(data []byte, err error) bool) {
	w.t.Helper()
	guard := time.After(watchGuard)
	for {
		select {
		case <-w.changed:
			if ok(os.ReadFile(w.path)) {
				return
			}
		case <-guard:
			b, err := os.ReadFile(w.path)
			w.t.Fatalf("no change seen that finds the file %s; it reads %q, %v", what, b, err)
		}
	}
}

// wait waits for a change after which the file reads want.
func (w *watcher) wait(want string) {
	w.t.Helper()
	w.until("reading "+strconv.Quote(want), func(b []byte, err error) bool { return err == nil && string(b) == want })
}

// waitGone waits for a change after which the file is gone.
func (w *watcher) waitGone() {
	w.t.Helper()
	w.until("gone", func(_ []byte, err error) bool { return errors.Is(err, fs.ErrNotExist) })
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestWatchInPlaceEdit(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.yaml")
	write(t, p, "v1")
	w := watchFile(t, p)
	write(t, p, "v2")
	w.wait("v2")
	write(t, p, "v3")
	w.wait("v3")
}

func TestWatchAtomicRename(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config.yaml")
	write(t, p, "v1")
	w := watchFile(t, p)
	for _, v := range []string{"v2", "v3"} {
		tmp := filepath.Join(dir, ".config.yaml.swp")
		write(t, tmp, v)
		if err := os.Rename(tmp, p); err != nil {
			t.Fatal(err)
		}
		w.wait(v)
	}
}

// The deletion is a change of its own (the watcher tells it before the
// file comes back), and the watch survives it.
func TestWatchDeleteAndRecreate(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.yaml")
	write(t, p, "v1")
	w := watchFile(t, p)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	w.waitGone()
	write(t, p, "v2")
	w.wait("v2")
}

// A Kubernetes ConfigMap volume: config.yaml -> ..data/config.yaml,
// ..data -> ..TIMESTAMP; an update writes a new ..TIMESTAMP folder, points
// ..data_tmp at it and renames ..data_tmp over ..data.
func TestWatchConfigMapSymlinkSwap(t *testing.T) {
	dir := t.TempDir()
	mkVersion := func(name, content string) {
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, name, "config.yaml"), content)
	}
	mkVersion("..2026_01", "v1")
	must(t, os.Symlink("..2026_01", filepath.Join(dir, "..data")))
	must(t, os.Symlink("..data/config.yaml", filepath.Join(dir, "config.yaml")))
	p := filepath.Join(dir, "config.yaml")
	w := watchFile(t, p)
	for i, v := range []string{"v2", "v3"} {
		name := []string{"..2026_02", "..2026_03"}[i]
		mkVersion(name, v)
		must(t, os.Symlink(name, filepath.Join(dir, "..data_tmp")))
		must(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
		w.wait(v)
	}
}

// A symlink to a file in another folder, whose target is replaced there.
func TestWatchSymlinkTargetElsewhere(t *testing.T) {
	real, links := t.TempDir(), t.TempDir()
	target := filepath.Join(real, "ocicred.yaml")
	write(t, target, "v1")
	p := filepath.Join(links, "config.yaml")
	must(t, os.Symlink(target, p))
	w := watchFile(t, p)
	tmp := filepath.Join(real, "tmp")
	write(t, tmp, "v2")
	must(t, os.Rename(tmp, target))
	w.wait("v2")
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
