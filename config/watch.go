package config

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is how long Watch waits for a burst of events to settle.
const DefaultDebounce = 100 * time.Millisecond

// Watcher calls onChange, at most once per debounce period, whenever the file
// at path, or one of the files SetFiles names (the secret files a config
// refers to), may have changed: written in place, replaced by an editor's
// rename, deleted and created again, or swapped by a Kubernetes ConfigMap
// update (a ..data symlink renamed over another). It watches the files'
// folders, not the files, because renames and symlink swaps replace the
// inode a file watch would follow; and when a path is a symlink it also
// watches the folders along its links. Events for other files in those
// folders (a log file beside the config, an editor's swap file) are
// ignored (spec, "Operating it"). It never stops on a remove or an error.
// onChange must compare contents itself: an event says only that one of
// the files may have moved.
//
// The folders are watched from NewWatcher on, so a change made after it
// returns is never missed; Run delivers the changes.
type Watcher struct {
	w        *fsnotify.Watcher
	path     string
	debounce time.Duration
	log      *slog.Logger

	mu      sync.Mutex
	files   []string        // path and the files SetFiles named
	watched map[string]bool // folders watched
}

// NewWatcher starts watching path's folders.
func NewWatcher(path string, debounce time.Duration, log *slog.Logger) (*Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	if debounce <= 0 {
		debounce = DefaultDebounce
	}
	wt := &Watcher{w: w, path: path, debounce: debounce, log: log, files: []string{path}, watched: map[string]bool{}}
	wt.addWatches()
	return wt, nil
}

// SetFiles makes the watcher follow files (absolute paths, such as a
// config's secret files) besides its config file, in place of those of an
// earlier call. Safe to call while Run runs.
func (wt *Watcher) SetFiles(files []string) {
	wt.mu.Lock()
	wt.files = append([]string{wt.path}, files...)
	wt.mu.Unlock()
	wt.addWatches()
}

// concerns reports whether an event on name may change one of the files:
// name is one of them, a link on the way to one, or a folder along such a
// link (a ConfigMap's ..data).
func (wt *Watcher) concerns(name string) bool {
	wt.mu.Lock()
	files := wt.files
	wt.mu.Unlock()
	for _, f := range files {
		for _, n := range linkChain(f) {
			if n == name {
				return true
			}
		}
	}
	return false
}

// linkChain is path, every link target on its way (at most 8 links) and
// the folder of each target, and where the chain ends.
func linkChain(path string) []string {
	out := []string{path}
	cur := path
	for range 8 {
		target, err := os.Readlink(cur)
		if err != nil {
			break
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(cur), target)
		}
		out = append(out, target, filepath.Dir(target))
		cur = target
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		out = append(out, real, filepath.Dir(real))
	}
	return out
}

// Close stops watching; Run does it on its way out.
func (wt *Watcher) Close() error { return wt.w.Close() }

// Run calls onChange after each settled burst of events until ctx is
// done, then closes the watcher.
func (wt *Watcher) Run(ctx context.Context, onChange func()) error {
	w, path, debounce, log := wt.w, wt.path, wt.debounce, wt.log
	defer w.Close()
	timer := time.NewTimer(debounce)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
				wt.mu.Lock()
				delete(wt.watched, ev.Name) // a watched folder that goes is watched again if it comes back
				wt.mu.Unlock()
			}
			if wt.concerns(ev.Name) && (ev.Op != fsnotify.Chmod || ev.Name == path) {
				timer.Reset(debounce)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			log.Warn("config watch error; still watching", "err", err)
			timer.Reset(debounce)
		case <-timer.C:
			wt.addWatches()
			onChange()
		}
	}
}

// addWatches watches the folder of each file and, while a file is a
// symlink, the folders along its chain of links. Watching a folder twice is
// harmless; folders are never unwatched, so a link swapped back still
// counts.
func (wt *Watcher) addWatches() {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	for _, f := range wt.files {
		dirs := []string{filepath.Dir(f)}
		chain := linkChain(f)
		for i := 1; i < len(chain); i += 2 {
			dirs = append(dirs, filepath.Dir(chain[i]))
		}
		for _, d := range dirs {
			if wt.watched[d] {
				continue
			}
			if err := wt.w.Add(d); err != nil {
				wt.log.Warn("cannot watch a folder of the config or its secret files; SIGHUP still reloads", "dir", d, "err", err)
				continue
			}
			wt.watched[d] = true
		}
	}
}
