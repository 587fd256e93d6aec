// Package testenv decides, before a test does its work, whether the machine
// has what the test needs (a tool, root, a kernel feature), in one place and
// by one rule:
//
//   - under CI=true a missing need fails the test: CI must have everything,
//     and a skip there would hide a broken install;
//   - elsewhere the test is skipped, and the skip is appended to the file
//     named by OCICRED_SKIP_LOG, from which `make test` prints one summary
//     line at the end, so that nothing is skipped silently.
//
// Only tests import it. Read testenv.go first.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// SkipLogEnv names the environment variable that holds the file skips are
// appended to, one "package.TestName: reason" line each (set by the Makefile).
const SkipLogEnv = "OCICRED_SKIP_LOG"

// InCI reports whether CI=true, where every need is a must.
func InCI() bool { return os.Getenv("CI") == "true" }

// Skip skips t with reason (or fails it under CI=true) and records the
// skip in the OCICRED_SKIP_LOG file. reason says what is missing and how to
// get it, e.g. "needs root".
func Skip(t testing.TB, reason string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s (CI=true: a missing need is a failure)", reason)
	}
	record(t.Name(), reason)
	t.Skip(reason)
}

// SkipShort skips t under `go test -short`, which asks for the quick unit
// tests alone: what is slow (the end-to-end suite, a build) says so here.
// It is not a missing need, so CI=true does not turn it into a failure;
// `make test` and CI never pass -short.
func SkipShort(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skip(what + ": skipped with -short")
	}
}

// record appends one line to the skip log; errors are ignored, as the log
// is a report, not part of the test.
func record(name, reason string) {
	path := os.Getenv(SkipLogEnv)
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = fmt.Fprintf(f, "%s: %s\n", name, strings.ReplaceAll(reason, "\n", " "))
}

// Tool returns the absolute path of the program name, looked up on PATH,
// then in the repository's .tools/bin (where `make tools` installs Go
// tools), then in $(go env GOPATH)/bin. When it is missing, t is skipped
// (failed under CI=true) with a reason that says how to install it.
func Tool(t testing.TB, name string) string {
	t.Helper()
	if p := LookTool(name); p != "" {
		return p
	}
	Skip(t, name+" is not installed: run `make tools` (or `make test`, which runs it)")
	return ""
}

// LookTool is Tool without the skip: the absolute path of name, or "".
func LookTool(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	for _, dir := range ToolDirs() {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// ToolDirs are the folders besides PATH where tools are installed: the
// repository's .tools/bin (`make tools`) and $(go env GOPATH)/bin, those
// that can be found.
func ToolDirs() []string {
	var dirs []string
	if root := RepoRoot(); root != "" {
		dirs = append(dirs, filepath.Join(root, ".tools", "bin"))
	}
	if d := goBinDir(); d != "" {
		dirs = append(dirs, d)
	}
	return dirs
}

// RequireRoot skips t (fails it under CI=true) unless it runs as root;
// why says what the test does that needs root.
func RequireRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Skip(t, "needs root: "+why)
	}
}

// RepoRoot is the folder holding ocicred's go.mod, found by walking up
// from the working folder (go test runs each package in its own folder),
// or "" outside the repository.
func RepoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(b), "module github.com/ocicred/ocicred\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
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
