// Package clientcfg edits the JSON auth files of registry clients (docker's
// config.json, containers' auth.json, helm's registry config.json) to route
// registries through a credential helper. It keeps every other key, writes
// atomically with the file's own mode through a symlink to its target,
// leaves a one-time .bak copy, never replaces another helper's entry unless
// forced, and puts such an entry back when ocicred's is removed (spec,
// "Operating it").
//
// Read clientcfg.go first (Apply); clients.go says where each client's
// file is and which hosts it is keyed by.
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
	"strings"

	"github.com/google/renameio/v2"
)

// Helper is the credential helper name clients run as docker-credential-<Helper>.
const Helper = "ocicred"

// Change is what Apply did, or would do with DryRun.
type Change struct {
	Path     string            // the file written: the target when the path given is a symlink
	Added    []string          // hosts routed to the helper
	Removed  []string          // hosts no longer routed to it
	Kept     []string          // hosts already routed to it
	Replaced map[string]string // host → the other helper its entry named (Force)
	Restored map[string]string // host → the helper put back on Remove
	Before   []byte            // nil when the file did not exist
	After    []byte
	Backup   string // the .bak written, if any
}

// Changed reports whether the file's content changes.
func (c Change) Changed() bool { return len(c.Added) > 0 || len(c.Removed) > 0 }

// Options of Apply.
type Options struct {
	// Remove takes the helper out for hosts instead of adding it, putting
	// back any entry a forced Apply replaced.
	Remove bool
	// DryRun computes the change without writing.
	DryRun bool
	// Force replaces another helper's entry for a host (it is kept in the
	// ReplacedFile beside the file, for Remove to restore).
	Force bool
}

// ForeignError is Apply's refusal to replace other helpers' entries
// without Options.Force. Entries maps each host to the helper it names.
type ForeignError struct {
	Path    string
	Entries map[string]string
}

func (e *ForeignError) Error() string {
	var parts []string
	for _, h := range sortedKeys(e.Entries) {
		parts = append(parts, fmt.Sprintf("credHelpers[%q] = %q", h, e.Entries[h]))
	}
	return fmt.Sprintf("%s: %s belong to another credential helper; not replacing them: rerun with --force to route them through ocicred (--remove puts them back)",
		e.Path, strings.Join(parts, ", "))
}

// ReplacedFile is where Apply keeps the entries it replaced with Force for
// the file path (already resolved): path + ".ocicred-replaced", a JSON
// object of host to helper name.
func ReplacedFile(path string) string { return path + ".ocicred-replaced" }

// Apply sets credHelpers[host] = "ocicred" for every host in the file at
// path (or removes those entries with opts.Remove), keeping every other
// key as it was. A symlinked path is edited through the link: the target
// changes, the link stays. Another helper's entry for a host gives a
// *ForeignError unless opts.Force.
func Apply(path string, hosts []string, opts Options) (Change, error) {
	path, err := FollowLinks(path)
	if err != nil {
		return Change{Path: path}, err
	}
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
	replaced, err := readReplaced(ReplacedFile(path))
	if err != nil {
		return ch, err
	}
	foreign := map[string]string{}
	for _, h := range sortedUnique(hosts) {
		switch cur, ok := helpers[h]; {
		case opts.Remove && ok && cur == Helper:
			if old, ok := replaced[h]; ok {
				helpers[h] = old
				setKey(&ch.Restored, h, old)
				delete(replaced, h)
			} else {
				delete(helpers, h)
			}
			ch.Removed = append(ch.Removed, h)
		case opts.Remove:
		case cur == Helper:
			ch.Kept = append(ch.Kept, h)
		case ok && cur != "" && !opts.Force:
			foreign[h] = cur
		default:
			if ok && cur != "" {
				replaced[h] = cur
				setKey(&ch.Replaced, h, cur)
			}
			helpers[h] = Helper
			ch.Added = append(ch.Added, h)
		}
	}
	if len(foreign) > 0 {
		return ch, &ForeignError{Path: path, Entries: foreign}
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
	// The replaced entries are saved before the file that drops them, so
	// that a crash between the two writes loses nothing.
	if len(ch.Replaced) > 0 || len(ch.Restored) > 0 {
		if err := writeReplaced(ReplacedFile(path), replaced); err != nil {
			return ch, err
		}
	}
	return ch, write(&ch, mode)
}

// FollowLinks returns the file a chain of symlinks at path ends at (which
// need not exist yet), so that an edit replaces the target and keeps the
// link: dotfiles repositories, ConfigMaps and Nix keep client files behind
// links. A path that is not a link is returned as it is.
func FollowLinks(path string) (string, error) {
	orig := path
	for range 40 { // as the kernel's MAXSYMLINKS
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) || (err == nil && fi.Mode()&fs.ModeSymlink == 0) {
			return path, nil
		}
		if err != nil {
			return path, err
		}
		target, err := os.Readlink(path)
		if err != nil {
			return path, err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		path = target
	}
	return orig, fmt.Errorf("%s: too many levels of symbolic links", orig)
}

// readReplaced reads the ReplacedFile at path; a missing file is empty.
func readReplaced(path string) (map[string]string, error) {
	m := map[string]string{}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s (the entries ocicred replaced, for --remove) is not a JSON object of strings: %w; fix or remove it", path, err)
	}
	return m, nil
}

// writeReplaced writes m to path atomically (0600), or removes the file
// when m is empty.
func writeReplaced(path string, m map[string]string) error {
	if len(m) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	data, err := json.MarshalIndent(m, "", "\t")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return renameio.WriteFile(path, append(data, '\n'), 0o600, renameio.WithTempDir(filepath.Dir(path)))
}

func setKey(m *map[string]string, k, v string) {
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[k] = v
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
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
