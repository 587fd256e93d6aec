package config

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// quietWindow is how long a test waits to see that the watcher does not
// deliver a change at once. A watcher that wrongly did would on a quiet
// machine; a loaded one can only make the test miss it, never fail a right
// watcher (whose debounce, in these tests, is an hour).
const quietWindow = 300 * time.Millisecond

// quiet fails if the watcher delivers a change within quietWindow.
func (w *watcher) quiet(what string) {
	w.t.Helper()
	select {
	case <-w.changed:
		w.t.Fatalf("%s was delivered at once; want it to wait the debounce", what)
	case <-time.After(quietWindow):
	}
}

// renameOver replaces path by a file written beside it and renamed over it,
// as mv, rsync, Ansible and editors do.
func renameOver(t *testing.T, path, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), ".next."+filepath.Base(path))
	write(t, tmp, content)
	must(t, os.Rename(tmp, path))
}

// The watcher's fast path rests on what inotify reports for the config's
// name, checked here: a rename over it is a Create alone, with no Remove
// before it; a removal and a new file are a Remove, then a Create; a write
// in place is no Create.
func TestFsnotifyRenameOverIsCreateAlone(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	write(t, cfg, "v1")
	fw, err := fsnotify.NewWatcher()
	must(t, err)
	defer fw.Close()
	must(t, fw.Add(dir))
	markers := 0
	// opsOn gives the ops reported on cfg until a new marker file's Create:
	// inotify reports a folder's events in order, so every event of what
	// came before the marker comes before it.
	opsOn := func() []fsnotify.Op {
		t.Helper()
		markers++
		marker := filepath.Join(dir, fmt.Sprintf("marker%d", markers))
		write(t, marker, "")
		var ops []fsnotify.Op
		guard := time.After(watchGuard)
		for {
			select {
			case ev := <-fw.Events:
				if ev.Name == marker && ev.Has(fsnotify.Create) {
					return ops
				}
				if ev.Name == cfg {
					ops = append(ops, ev.Op)
				}
			case err := <-fw.Errors:
				t.Fatal(err)
			case <-guard:
				t.Fatalf("no Create seen for %s", marker)
			}
		}
	}

	renameOver(t, cfg, "v2")
	if got, want := opsOn(), []fsnotify.Op{fsnotify.Create}; !slices.Equal(got, want) {
		t.Errorf("a rename over the config: %v, want %v", got, want)
	}
	must(t, os.Remove(cfg))
	write(t, cfg, "v3")
	if got, want := opsOn(), []fsnotify.Op{fsnotify.Remove, fsnotify.Create, fsnotify.Write}; !slices.Equal(got, want) {
		t.Errorf("the config removed and written anew: %v, want %v", got, want)
	}
	write(t, cfg, "v4")
	if got := opsOn(); len(got) == 0 || slices.ContainsFunc(got, func(op fsnotify.Op) bool { return op != fsnotify.Write }) {
		t.Errorf("the config written in place: %v, want writes alone", got)
	}
}

// With an hour's debounce only the fast path can deliver: a rename over
// the config file is delivered at once, every time.
func TestWatchRenameOverAtOnce(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.yaml")
	write(t, p, "v1")
	w := watchDebounced(t, p, time.Hour)
	for _, v := range []string{"v2", "v3"} {
		renameOver(t, p, v)
		w.wait(v)
	}
}

// Every other change waits the debounce (here an hour, so none comes):
// a file written in place or created anew may be read half-written, and a
// secret file or a ConfigMap's links keep the debounce too. A rename over
// the config after each is still delivered at once: the watcher is alive,
// and a config created anew is one a rename replaces.
func TestWatchDebouncedChanges(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(t *testing.T, dir string) (files []string) // files for SetFiles
		change func(t *testing.T, dir string)
	}{
		{
			name:   "written in place",
			setup:  func(t *testing.T, dir string) []string { write(t, filepath.Join(dir, "config.yaml"), "v1"); return nil },
			change: func(t *testing.T, dir string) { write(t, filepath.Join(dir, "config.yaml"), "v2") },
		},
		{
			name:  "removed and written anew",
			setup: func(t *testing.T, dir string) []string { write(t, filepath.Join(dir, "config.yaml"), "v1"); return nil },
			change: func(t *testing.T, dir string) {
				must(t, os.Remove(filepath.Join(dir, "config.yaml")))
				write(t, filepath.Join(dir, "config.yaml"), "v2")
			},
		},
		{
			name:   "created where there was none",
			setup:  func(t *testing.T, dir string) []string { return nil },
			change: func(t *testing.T, dir string) { write(t, filepath.Join(dir, "config.yaml"), "v2") },
		},
		{
			name: "a secret file renamed over",
			setup: func(t *testing.T, dir string) []string {
				write(t, filepath.Join(dir, "config.yaml"), "v1")
				write(t, filepath.Join(dir, "harbor.password"), "pw1")
				return []string{filepath.Join(dir, "harbor.password")}
			},
			change: func(t *testing.T, dir string) { renameOver(t, filepath.Join(dir, "harbor.password"), "pw2") },
		},
		{
			name: "a ConfigMap's ..data swapped",
			setup: func(t *testing.T, dir string) []string {
				must(t, os.Mkdir(filepath.Join(dir, "..2026_01"), 0o755))
				write(t, filepath.Join(dir, "..2026_01", "config.yaml"), "v1")
				must(t, os.Symlink("..2026_01", filepath.Join(dir, "..data")))
				must(t, os.Symlink("..data/config.yaml", filepath.Join(dir, "config.yaml")))
				return nil
			},
			change: func(t *testing.T, dir string) {
				must(t, os.Mkdir(filepath.Join(dir, "..2026_02"), 0o755))
				write(t, filepath.Join(dir, "..2026_02", "config.yaml"), "v2")
				must(t, os.Symlink("..2026_02", filepath.Join(dir, "..data_tmp")))
				must(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			p := filepath.Join(dir, "config.yaml")
			files := tc.setup(t, dir)
			w := watchDebounced(t, p, time.Hour)
			if files != nil {
				w.wt.SetFiles(files)
			}
			tc.change(t, dir)
			w.quiet(tc.name)
			renameOver(t, p, "v9")
			w.wait("v9")
		})
	}
}

// queuedWatcher is a Watcher on path (an hour's debounce) whose events are
// the ones a test queues, all of them there before Run reads the first: what
// fsnotify hands over when renames come faster than a load.
func queuedWatcher(t *testing.T, path string, queued ...fsnotify.Event) (changes <-chan struct{}) {
	t.Helper()
	wt, err := NewWatcher(path, time.Hour, slog.New(slog.DiscardHandler))
	must(t, err)
	events := make(chan fsnotify.Event, len(queued))
	for _, ev := range queued {
		events <- ev
	}
	wt.w.Events = events // Run reads the field; fsnotify's own reader keeps its channel
	changed := make(chan struct{}, len(queued)+1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = wt.Run(ctx, func() { changed <- struct{}{} })
	}()
	t.Cleanup(func() { cancel(); <-done })
	return changed
}

// Five renames over the config queued behind one another are one load:
// the load reads the file after the last.
func TestWatchRenameBurstIsOneLoad(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.yaml")
	write(t, p, "v1")
	var burst []fsnotify.Event
	for range 5 {
		burst = append(burst, fsnotify.Event{Name: filepath.Join(filepath.Dir(p), ".next"), Op: fsnotify.Rename},
			fsnotify.Event{Name: p, Op: fsnotify.Create})
	}
	changed := queuedWatcher(t, p, burst...)
	select {
	case <-changed:
	case <-time.After(watchGuard):
		t.Fatalf("no load within %s of a burst of renames", watchGuard)
	}
	select {
	case <-changed:
		t.Fatal("a second load for one burst of renames")
	case <-time.After(quietWindow):
	}
}

// A rename over the config followed, in the queue, by its removal and a new
// file is not loaded at once: the new file may be half written, so the
// change waits the debounce (an hour here: nothing comes).
func TestWatchRenameThenRemovedWaits(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.yaml")
	write(t, p, "v1")
	changed := queuedWatcher(t, p,
		fsnotify.Event{Name: p, Op: fsnotify.Create},
		fsnotify.Event{Name: p, Op: fsnotify.Remove},
		fsnotify.Event{Name: p, Op: fsnotify.Create},
		fsnotify.Event{Name: p, Op: fsnotify.Write})
	select {
	case <-changed:
		t.Fatal("loaded at once, though the config was removed and written anew behind the rename")
	case <-time.After(quietWindow):
	}
}

// A config named by a relative path (ocicred controller --config
// config.yaml) is followed as well: fsnotify names events after the folder
// as it was added ("./config.yaml"), which "config.yaml" did not match, so
// such a config was never reloaded. Its rename over is delivered at once.
func TestWatchRelativePath(t *testing.T) {
	for _, name := range []string{"config.yaml", "./config.yaml"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			write(t, filepath.Join(dir, "config.yaml"), "v1")
			w := watchDebounced(t, name, time.Hour)
			renameOver(t, filepath.Join(dir, "config.yaml"), "v2")
			select {
			case <-w.changed:
			case <-time.After(watchGuard):
				t.Fatalf("a rename over %s was not delivered within %s", name, watchGuard)
			}
		})
	}
}
