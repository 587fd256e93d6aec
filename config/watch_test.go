package config

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// watchFile starts Watch on path and returns a function that waits until
// the file reads want after a change was signalled.
func watchFile(t *testing.T, path string) func(want string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	changed := make(chan struct{}, 100)
	done := make(chan struct{})
	w, err := NewWatcher(path, 20*time.Millisecond, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(done)
		_ = w.Run(ctx, func() { changed <- struct{}{} })
	}()
	t.Cleanup(func() { cancel(); <-done })
	return func(want string) {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case <-changed:
				if b, err := os.ReadFile(path); err == nil && string(b) == want {
					return
				}
			case <-deadline:
				b, err := os.ReadFile(path)
				t.Fatalf("no change seen with content %q; file reads %q, %v", want, b, err)
			}
		}
	}
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
	wait := watchFile(t, p)
	write(t, p, "v2")
	wait("v2")
	write(t, p, "v3")
	wait("v3")
}

func TestWatchAtomicRename(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config.yaml")
	write(t, p, "v1")
	wait := watchFile(t, p)
	for _, v := range []string{"v2", "v3"} {
		tmp := filepath.Join(dir, ".config.yaml.swp")
		write(t, tmp, v)
		if err := os.Rename(tmp, p); err != nil {
			t.Fatal(err)
		}
		wait(v)
	}
}

func TestWatchDeleteAndRecreate(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.yaml")
	write(t, p, "v1")
	wait := watchFile(t, p)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	write(t, p, "v2")
	wait("v2")
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
	wait := watchFile(t, p)
	for i, v := range []string{"v2", "v3"} {
		name := []string{"..2026_02", "..2026_03"}[i]
		mkVersion(name, v)
		must(t, os.Symlink(name, filepath.Join(dir, "..data_tmp")))
		must(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
		wait(v)
	}
}

// A symlink to a file in another folder, whose target is replaced there.
func TestWatchSymlinkTargetElsewhere(t *testing.T) {
	real, links := t.TempDir(), t.TempDir()
	target := filepath.Join(real, "ocicred.yaml")
	write(t, target, "v1")
	p := filepath.Join(links, "config.yaml")
	must(t, os.Symlink(target, p))
	wait := watchFile(t, p)
	tmp := filepath.Join(real, "tmp")
	write(t, tmp, "v2")
	must(t, os.Rename(tmp, target))
	wait("v2")
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
