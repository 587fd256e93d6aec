package clientcfg

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func read(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestApplyKeepsEverythingElse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	orig := `{"auths":{"other.example":{"auth":"dXNlcjpwdw=="}},"credsStore":"desktop","credHelpers":{"gcr.io":"gcloud"},"x-unknown":[1,2]}`
	if err := os.WriteFile(path, []byte(orig), 0o640); err != nil {
		t.Fatal(err)
	}
	ch, err := Apply(path, []string{"b.example:5000", "a.example", "a.example"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ch.Added, []string{"a.example", "b.example:5000"}) || ch.Backup != path+".bak" {
		t.Errorf("change = %+v", ch)
	}
	m := read(t, path)
	want := map[string]any{
		"auths":       map[string]any{"other.example": map[string]any{"auth": "dXNlcjpwdw=="}},
		"credsStore":  "desktop",
		"credHelpers": map[string]any{"gcr.io": "gcloud", "a.example": "ocicred", "b.example:5000": "ocicred"},
		"x-unknown":   []any{1.0, 2.0},
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("file = %v\nwant %v", m, want)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want the original 0640", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(path + ".bak"); string(b) != orig {
		t.Errorf("backup = %q", b)
	}

	// Idempotent: nothing changes the second time, and the backup stays
	// the original.
	ch, err = Apply(path, []string{"a.example", "b.example:5000"}, Options{})
	if err != nil || ch.Changed() || len(ch.Kept) != 2 {
		t.Errorf("second apply = %+v, %v", ch, err)
	}
	// Remove takes out only ours.
	ch, err = Apply(path, []string{"a.example", "b.example:5000", "gcr.io"}, Options{Remove: true})
	if err != nil || len(ch.Removed) != 2 {
		t.Fatalf("remove = %+v, %v", ch, err)
	}
	if got := read(t, path)["credHelpers"]; !reflect.DeepEqual(got, map[string]any{"gcr.io": "gcloud"}) {
		t.Errorf("after remove, credHelpers = %v", got)
	}
	if b, _ := os.ReadFile(path + ".bak"); string(b) != orig {
		t.Errorf("backup was overwritten: %q", b)
	}
}

func TestApplyNewFileAndDryRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "config.json")
	ch, err := Apply(path, []string{"h.example"}, Options{DryRun: true})
	if err != nil || !ch.Changed() || string(ch.After) != "{\n\t\"credHelpers\": {\n\t\t\"h.example\": \"ocicred\"\n\t}\n}\n" {
		t.Fatalf("dry run = %q, %v", ch.After, err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("a dry run wrote the file")
	}
	if _, err := Apply(path, []string{"h.example"}, Options{}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("new file: %v, %v", fi, err)
	}
	if _, err := os.Stat(path + ".bak"); !os.IsNotExist(err) {
		t.Error("a backup of a file that did not exist")
	}
}

func TestApplyRefusesBrokenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(path, []string{"h"}, Options{}); err == nil {
		t.Error("a broken file was overwritten")
	}
	if b, _ := os.ReadFile(path); string(b) != "{not json" {
		t.Error("the broken file changed")
	}
}

// Another helper's entry for a host is never replaced silently: Apply
// refuses naming it and writes nothing; with Force it is replaced and kept
// beside the file; Remove puts it back and forgets it.
func TestApplyForeignEntry(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	orig := `{"credHelpers":{"reg.example":"pass","gcr.io":"gcloud"}}`
	if err := os.WriteFile(path, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Apply(path, []string{"reg.example", "new.example"}, Options{})
	var fe *ForeignError
	if !errors.As(err, &fe) || fe.Entries["reg.example"] != "pass" || len(fe.Entries) != 1 ||
		!strings.Contains(err.Error(), `credHelpers["reg.example"] = "pass"`) || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("Apply over another helper's entry: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != orig {
		t.Errorf("a refused Apply wrote the file: %s", b)
	}

	ch, err := Apply(path, []string{"reg.example", "new.example"}, Options{Force: true})
	if err != nil || ch.Replaced["reg.example"] != "pass" {
		t.Fatalf("Apply --force: %+v, %v", ch, err)
	}
	helpers := read(t, path)["credHelpers"].(map[string]any)
	if helpers["reg.example"] != Helper || helpers["new.example"] != Helper || helpers["gcr.io"] != "gcloud" {
		t.Errorf("after --force: %v", helpers)
	}
	if kept := read(t, ReplacedFile(path)); kept["reg.example"] != "pass" {
		t.Errorf("the replaced entry was not kept: %v", kept)
	}

	ch, err = Apply(path, []string{"reg.example", "new.example"}, Options{Remove: true})
	if err != nil || ch.Restored["reg.example"] != "pass" {
		t.Fatalf("Apply --remove: %+v, %v", ch, err)
	}
	helpers = read(t, path)["credHelpers"].(map[string]any)
	if want := map[string]any{"reg.example": "pass", "gcr.io": "gcloud"}; !reflect.DeepEqual(helpers, want) {
		t.Errorf("after --remove credHelpers = %v, want %v", helpers, want)
	}
	if _, err := os.Stat(ReplacedFile(path)); !os.IsNotExist(err) {
		t.Errorf("the replaced-entries file is left after everything was restored: %v", err)
	}
}

// A symlinked auth file is edited through the link: the target gets the
// entry, the link stays a link; also for a relative, chained and dangling
// link.
func TestApplyThroughSymlinks(t *testing.T) {
	dir := t.TempDir()
	dotfiles := filepath.Join(dir, "dotfiles")
	if err := os.MkdirAll(dotfiles, 0o700); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dotfiles, "docker.json")
	if err := os.WriteFile(target, []byte(`{"auths":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	mid := filepath.Join(dir, "mid.json")
	link := filepath.Join(dir, "config.json")
	if err := os.Symlink("dotfiles/docker.json", mid); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(mid, link); err != nil {
		t.Fatal(err)
	}
	ch, err := Apply(link, []string{"a.example"}, Options{})
	if err != nil || ch.Path != target {
		t.Fatalf("Apply through links: path %s, %v", ch.Path, err)
	}
	for _, l := range []string{link, mid} {
		if fi, err := os.Lstat(l); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a symlink", l)
		}
	}
	if h := read(t, target)["credHelpers"].(map[string]any); h["a.example"] != Helper {
		t.Errorf("the target lacks the entry: %v", h)
	}

	dangling := filepath.Join(dir, "dangling.json")
	if err := os.Symlink(filepath.Join(dotfiles, "later.json"), dangling); err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(dangling, []string{"a.example"}, Options{}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(dangling); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the dangling link was replaced")
	}
	if h := read(t, filepath.Join(dotfiles, "later.json"))["credHelpers"].(map[string]any); h["a.example"] != Helper {
		t.Errorf("the dangling link's target lacks the entry: %v", h)
	}

	loop := filepath.Join(dir, "loop.json")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(loop, []string{"a.example"}, Options{}); err == nil || !strings.Contains(err.Error(), "too many levels") {
		t.Errorf("a link loop: %v", err)
	}
}
