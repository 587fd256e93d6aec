package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// RequireLong skips t under `go test -short`.
func RequireLong(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
}

// InCI reports whether this is a CI run, where a missing tool is a failure.
func InCI() bool { return os.Getenv("CI") == "true" }

// Tool returns the absolute path of an external program the suite drives,
// looked up on PATH and then in $(go env GOPATH)/bin. When it is missing the
// test is skipped, except in CI, where a skip would hide a broken install.
func Tool(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return abs(p)
	}
	if dir := goBinDir(); dir != "" {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	if InCI() {
		t.Fatalf("%s is not installed; CI must have it: see .ci/install-tools", name)
	}
	t.Skipf("%s is not installed: run .ci/install-tools (skipped outside CI)", name)
	return ""
}

func abs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// goBinDir is where `go install` puts programs: GOBIN, else GOPATH/bin.
var goBinDir = sync.OnceValue(func() string {
	out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output()
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n") // GOBIN first, often empty
	if len(lines) > 0 && lines[0] != "" {
		return lines[0]
	}
	if len(lines) > 1 {
		first, _, _ := strings.Cut(lines[1], string(os.PathListSeparator))
		return filepath.Join(first, "bin")
	}
	return ""
})
