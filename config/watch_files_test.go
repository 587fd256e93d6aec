package config

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The watcher reloads for the config file, its links, and the files
// SetFiles names, not for anything else in their folders (a log file the
// daemon's stderr goes to beside the config once made it reload in a loop).
func TestWatcherConcernsOnlyItsFiles(t *testing.T) {
	dir := t.TempDir()
	// A ConfigMap mount: config.yaml -> ..data/config.yaml, ..data -> ..2026_x
	stamp := filepath.Join(dir, "..2026_x")
	if err := os.Mkdir(stamp, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(stamp, "config.yaml"), "registries: []\n")
	if err := os.Symlink("..2026_x", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.Symlink("..data/config.yaml", cfg); err != nil {
		t.Fatal(err)
	}
	secrets := t.TempDir()
	secret := filepath.Join(secrets, "harbor.password")
	writeFile(t, secret, "pw\n")
	w, err := NewWatcher(cfg, time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.SetFiles([]string{secret})
	for name, want := range map[string]bool{
		cfg:                                      true,
		filepath.Join(dir, "..data"):             true, // the ConfigMap swap renames ..data
		filepath.Join(stamp, "config.yaml"):      true,
		secret:                                   true,
		filepath.Join(dir, "daemon.log"):         false,
		filepath.Join(dir, ".config.yaml.swp"):   false,
		filepath.Join(secrets, "other.password"): false,
	} {
		if got := w.concerns(name); got != want {
			t.Errorf("concerns(%s) = %v, want %v", name, got, want)
		}
	}
}

// A rotated secret file alone (the config untouched) makes the watcher
// call onChange once SetFiles names it.
func TestWatcherFollowsSecretFiles(t *testing.T) {
	dir, secrets := t.TempDir(), t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, "registries: []\n")
	secret := filepath.Join(secrets, "harbor.password")
	writeFile(t, secret, "pw1\n")
	w, err := NewWatcher(cfg, time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	w.SetFiles([]string{secret})
	changed := make(chan struct{}, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, func() { changed <- struct{}{} }) }()
	defer func() { cancel(); <-done }()
	writeFile(t, secret, "pw2\n")
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("no onChange for a rotated secret file in 10 s")
	}
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}
