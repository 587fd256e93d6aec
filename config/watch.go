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

// DefaultDebounce is how long a Watcher waits for a burst of events to
// settle before it calls onChange. A rename over the config file itself is
// not debounced: it is delivered at once.
const DefaultDebounce = 100 * time.Millisecond

// eventBuffer is how many events fsnotify may read ahead of Run, so that a
// burst of renames is there to be taken at once (Run's drain).
const eventBuffer = 64

// Watcher calls onChange whenever the file at path, or one of the files
// SetFiles names (the secret files a config refers to), may have changed:
// written in place, replaced by an editor's rename, deleted and created
// again, or swapped by a Kubernetes ConfigMap update (a ..data symlink
// renamed over another). A file renamed over path itself (mv, rsync,
// Ansible, an editor's save) calls it at once, since the new content was
// whole before the rename; every other change, a link's target included,
// calls it once its burst of events has settled for the debounce period.
// It watches the files' folders, not the files, because renames and
// symlink swaps replace the inode a file watch would follow; and when a
// path is a symlink it also watches the folders along its links. Events
// for other files in those folders (a log file beside the config, an
// editor's swap file) are ignored (spec, "Operating it"). It never stops
// on a remove or an error. onChange must compare contents itself: an event
// says only that one of the files may have moved.
//
// The folders are watched from NewWatcher on, so a change made after it
// returns is never missed; Run delivers the changes.
type Watcher struct {
	w        *fsnotify.Watcher
	path     string
	debounce time.Duration
	log      *slog.Logger

	// present: path exists as far as the events tell (it did at
	// NewWatcher, or was created since, and was not removed or renamed
	// away since). Run's alone once it runs.
	present bool

	mu      sync.Mutex
	files   []string        // path and the files SetFiles named
	watched map[string]bool // folders watched
}

// NewWatcher starts watching path's folders.
func NewWatcher(path string, debounce time.Duration, log *slog.Logger) (*Watcher, error) {
	w, err := fsnotify.NewBufferedWatcher(eventBuffer)
	if err != nil {
		return nil, err
	}
	if debounce <= 0 {
		debounce = DefaultDebounce
	}
	// fsnotify names events after the folder as it was added: an absolute
	// path matches them however the caller wrote it (./config.yaml).
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	// Look before watching: a config created in between is then taken
	// for absent, and its next replacement waits the debounce, where the
	// other order would take a half-written new file for a replacement.
	_, err = os.Lstat(path)
	wt := &Watcher{w: w, path: path, debounce: debounce, log: log, present: err == nil,
		files: []string{path}, watched: map[string]bool{}}
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

// Run calls onChange after each settled burst of events, and at once for a
// rename over the config file, until ctx is done, then closes the watcher.
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
			wt.unwatchGone(ev)
			if !wt.replaced(ev) {
				if wt.concerns(ev.Name) && (ev.Op != fsnotify.Chmod || ev.Name == path) {
					timer.Reset(debounce)
				}
				continue
			}
			// A rename over the config: the events already queued behind
			// it are read first, so that one load serves a burst of
			// renames; if the config was removed among them, a new file
			// may be half written, and the change waits the debounce.
			if wt.drain(w.Events) {
				timer.Reset(debounce)
				continue
			}
			timer.Stop() // this load reads everything a pending one would
			wt.addWatches()
			onChange()
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			log.Warn("config watch error; still watching", "err", err)
			wt.present = false // events may have been lost (a queue overflow)
			timer.Reset(debounce)
		case <-timer.C:
			wt.addWatches()
			onChange()
		}
	}
}

// drain takes the events waiting in events without blocking, keeping
// track of the config's name as Run does, and reports whether one of them
// removed the config or renamed it away.
func (wt *Watcher) drain(events <-chan fsnotify.Event) (removed bool) {
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return removed
			}
			wt.unwatchGone(ev)
			wasPresent := wt.present
			wt.replaced(ev)
			if wasPresent && !wt.present {
				removed = true
			}
		default:
			return removed
		}
	}
}

// unwatchGone forgets a watched folder that ev removed or renamed away:
// addWatches watches it again if it comes back.
func (wt *Watcher) unwatchGone(ev fsnotify.Event) {
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		wt.mu.Lock()
		delete(wt.watched, ev.Name)
		wt.mu.Unlock()
	}
}

// replaced reports whether ev is a file renamed over the config file, and
// keeps track of whether the config's name exists. A name that exists can
// be created again only by a rename over it: removing it or renaming it
// away first shows as an event of its own. So a Create of the config while
// it is present is an atomic replacement, and its content is complete. A
// Create after a removal may be a new file still being written (cp, a
// shell's >): it waits the debounce, like changes to secret files and to
// the links on the way to the config.
func (wt *Watcher) replaced(ev fsnotify.Event) bool {
	if ev.Name != wt.path && ev.Name != filepath.Dir(wt.path) {
		return false
	}
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) { // the config, or its folder
		wt.present = false
		return false
	}
	if ev.Name != wt.path || !ev.Has(fsnotify.Create) {
		return false
	}
	renamed := wt.present
	wt.present = true
	return renamed
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
