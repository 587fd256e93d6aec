package config

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is how long Watch waits for a burst of events to settle.
const DefaultDebounce = 100 * time.Millisecond

// Watcher calls onChange, at most once per debounce period, whenever the file
// at path may have changed: written in place, replaced by an editor's
// rename, deleted and created again, or swapped by a Kubernetes ConfigMap
// update (a ..data symlink renamed over another). It watches the file's
// folder, not the file, because renames and symlink swaps replace the
// inode a file watch would follow; and when path is a symlink it also
// watches the folder of what it points to. It never stops on a remove or an
// error. onChange must compare contents itself: an event says only that
// something in those folders moved.
//
// The folders are watched from NewWatcher on, so a change made after it
// returns is never missed; Run delivers the changes.
type Watcher struct {
	w        *fsnotify.Watcher
	path     string
	debounce time.Duration
	log      *slog.Logger
	watched  map[string]bool
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
	wt := &Watcher{w: w, path: path, debounce: debounce, log: log, watched: map[string]bool{}}
	addWatches(w, path, wt.watched, log)
	return wt, nil
}

// Close stops watching; Run does it on its way out.
func (wt *Watcher) Close() error { return wt.w.Close() }

// Run calls onChange after each settled burst of events until ctx is
// done, then closes the watcher.
func (wt *Watcher) Run(ctx context.Context, onChange func()) error {
	w, path, debounce, log, watched := wt.w, wt.path, wt.debounce, wt.log, wt.watched
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
				delete(watched, ev.Name) // a watched folder that goes is watched again if it comes back
			}
			if ev.Op != fsnotify.Chmod || filepath.Base(ev.Name) == filepath.Base(path) {
				timer.Reset(debounce)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			log.Warn("config watch error; still watching", "err", err)
			timer.Reset(debounce)
		case <-timer.C:
			addWatches(w, path, watched, log)
			onChange()
		}
	}
}

// addWatches watches path's folder and, while path is a symlink, the
// folders along its chain of links. Watching a folder twice is harmless;
// folders are never unwatched, so a link swapped back still counts.
func addWatches(w *fsnotify.Watcher, path string, watched map[string]bool, log *slog.Logger) {
	dirs := []string{filepath.Dir(path)}
	cur := path
	for range 8 { // follow at most 8 links
		target, err := os.Readlink(cur)
		if err != nil {
			break
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(cur), target)
		}
		dirs = append(dirs, filepath.Dir(target))
		cur = target
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		dirs = append(dirs, filepath.Dir(real))
	}
	for _, d := range dirs {
		if watched[d] {
			continue
		}
		if err := w.Add(d); err != nil {
			log.Warn("cannot watch config folder; SIGHUP still reloads", "dir", d, "err", err)
			continue
		}
		watched[d] = true
	}
}
