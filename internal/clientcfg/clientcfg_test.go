package clientcfg

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
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
