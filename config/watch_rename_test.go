package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

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
