package config

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Load refuses what the daemon would refuse on this machine, every
// problem at once and each at its field's line and column: a socketGroup
// and an allow entry that do not resolve, a missing CA file, a region that
// contradicts the endpoint, a missing secret file, and the schema error in
// the same file. config validate and the daemon both run Load.
func TestLoadChecksTheMachineAllAtOnce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	body := `socketGroup: ocicred-no-such-group-x
registries:
  - name: a
    type: basic
    endpoint: a.example
    username: u
    passwordFile: ` + filepath.Join(dir, "missing.pw") + `
    allow: [ocicred-no-such-user-x, "group:ocicred-no-such-group-y", "0", "group:0"]
    tls: {ca: ` + filepath.Join(dir, "missing-ca.pem") + `}
  - name: b
    type: ecr
    endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com
    region: eu-central-1
  - name: c
    type: basic
    endpoint: c.example
    username: u
    passwrd: x
`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	want := []string{
		path + ":1:14: socketGroup: names a group that does not exist on this machine",
		path + ":7:19: registries[0].passwordFile: ",
		path + ":8:13: registries[0].allow[0]: names a user that does not exist on this machine",
		path + ":8:37: registries[0].allow[1]: names a group that does not exist on this machine",
		path + ":9:15: registries[0].tls.ca: no such file",
		path + ":13:13: registries[1].region: contradicts the endpoint, whose region is us-west-2",
		path + ":14:5: registries[2].password: is required",
		path + ":18:5: registries[2].passwrd: unknown field",
	}
	if err == nil {
		t.Fatal("Load accepted a config the daemon must refuse")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Errorf("%d errors, want %d:\n%s", len(lines), len(want), err)
	}
	for i, w := range want {
		if i >= len(lines) || !strings.HasPrefix(lines[i], w) {
			t.Errorf("error %d:\n got %q\nwant %q...", i, lines[min(i, len(lines)-1)], w)
		}
	}
	if strings.Contains(err.Error(), "ocicred-no-such-user-x") || strings.Contains(err.Error(), "ocicred-no-such-group") {
		t.Errorf("the errors quote values from the file:\n%s", err)
	}
}

// A tab in the indentation is reported at its own line and column (the
// YAML parser names the line before), and the sample config's examples
// uncommented under `registries: []` are reported at the first example
// with what to change, not as "did not find expected key" on line 1.
func TestSyntaxErrorPositions(t *testing.T) {
	_, err := Parse([]byte("socketGroup: ocicred\nregistries:\n  - name: a\n    type: basic\n\tendpoint: x\n"), "c.yaml")
	if err == nil || !strings.HasPrefix(err.Error(), "c.yaml:5:1: ") || !strings.Contains(err.Error(), "tab") {
		t.Errorf("a tab on line 5: %v", err)
	}
	sample, err := os.ReadFile("../packaging/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	want, after := 0, false
	for i, l := range strings.Split(string(sample), "\n") {
		if rest, ok := strings.CutPrefix(l, "#  "); ok && after {
			l = "  " + rest // what an operator does: uncomment the examples
			if want == 0 {
				want = i + 1
			}
		}
		after = after || l == "registries: []"
		lines = append(lines, l)
	}
	_, err = Parse([]byte(strings.Join(lines, "\n")), "config.yaml")
	if err == nil || !strings.HasPrefix(err.Error(), "config.yaml:") || !strings.Contains(err.Error(), "remove the brackets after registries:") {
		t.Fatalf("the sample with its examples uncommented: %v", err)
	}
	if got := strings.SplitN(err.Error(), ":", 3)[1]; got != strconv.Itoa(want) {
		t.Errorf("reported at line %s, want %d (the first uncommented example): %v", got, want, err)
	}
}
