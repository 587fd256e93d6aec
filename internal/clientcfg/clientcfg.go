// Package clientcfg edits the JSON auth files of registry clients (docker's
// config.json, containers' auth.json, helm's registry config.json) to route
// registries through a credential helper. It keeps every other key, writes
// atomically with the file's own mode, and leaves a one-time .bak copy.
package clientcfg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/google/renameio/v2"
)

// Helper is the credential helper name clients run as docker-credential-<Helper>.
const Helper = "ocicred"

// Change is what Apply did, or would do with DryRun.
type Change struct {
	Path    string
	Added   []string // hosts routed to the helper
	Removed []string // hosts no longer routed to it
	Kept    []string // hosts already routed to it
	Before  []byte   // nil when the file did not exist
	After   []byte
	Backup  string // the .bak written, if any
}

// Changed reports whether the file's content changes.
func (c Change) Changed() bool { return len(c.Added) > 0 || len(c.Removed) > 0 }

// Options of Apply.
type Options struct {
	// Remove takes the helper out for hosts instead of adding it.
	Remove bool
	// DryRun computes the change without writing.
	DryRun bool
}

// Apply sets credHelpers[host] = "ocicred" for every host in the file at
// path (or removes those entries with opts.Remove), keeping every other
// key as it was.
func Apply(path string, hosts []string, opts Options) (Change, error) {
	ch := Change{Path: path}
	doc := map[string]json.RawMessage{}
	mode := fs.FileMode(0o600)
	before, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return ch, err
	default:
		ch.Before = before
		if len(bytes.TrimSpace(before)) > 0 {
			if err := json.Unmarshal(before, &doc); err != nil {
				return ch, fmt.Errorf("%s is not a JSON object: %w; fix or move it first", path, err)
			}
		}
		if fi, err := os.Stat(path); err == nil {
			mode = fi.Mode().Perm()
		}
	}
	helpers := map[string]string{}
	if raw, ok := doc["credHelpers"]; ok {
		if err := json.Unmarshal(raw, &helpers); err != nil {
			return ch, fmt.Errorf("%s: credHelpers is not an object of strings: %w", path, err)
		}
	}
	for _, h := range sortedUnique(hosts) {
		switch cur, ok := helpers[h]; {
		case opts.Remove && ok && cur == Helper:
			delete(helpers, h)
			ch.Removed = append(ch.Removed, h)
		case opts.Remove:
		case cur == Helper:
			ch.Kept = append(ch.Kept, h)
		default:
			helpers[h] = Helper
			ch.Added = append(ch.Added, h)
		}
	}
	if len(helpers) == 0 {
		delete(doc, "credHelpers")
	} else if doc["credHelpers"], err = json.Marshal(helpers); err != nil {
		return ch, err
	}
	if ch.After, err = json.MarshalIndent(doc, "", "\t"); err != nil {
		return ch, err
	}
	ch.After = append(ch.After, '\n')
	if opts.DryRun || !ch.Changed() {
		return ch, nil
	}
	return ch, write(&ch, mode)
}

// write keeps a one-time backup of the original and replaces the file
// atomically.
func write(ch *Change, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(ch.Path), 0o700); err != nil {
		return err
	}
	if ch.Before != nil {
		bak := ch.Path + ".bak"
		if _, err := os.Stat(bak); errors.Is(err, fs.ErrNotExist) {
			if err := renameio.WriteFile(bak, ch.Before, mode, renameio.WithTempDir(filepath.Dir(bak))); err != nil {
				return fmt.Errorf("backup %s: %w", bak, err)
			}
			ch.Backup = bak
		}
	}
	return renameio.WriteFile(ch.Path, ch.After, mode, renameio.WithTempDir(filepath.Dir(ch.Path)))
}

func sortedUnique(ss []string) []string {
	m := map[string]bool{}
	for _, s := range ss {
		m[s] = true
	}
	out := make([]string, 0, len(m))
	for s := range m {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
