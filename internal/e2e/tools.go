package e2e

import (
	"testing"

	"github.com/ocicred/ocicred/internal/testenv"
)

// RequireLong skips t under `go test -short` (`make test-short`).
func RequireLong(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
}

// InCI reports whether this is a CI run, where a missing tool is a failure.
func InCI() bool { return testenv.InCI() }

// Tool returns the absolute path of an external program the suite drives
// (testenv.Tool: PATH, .tools/bin, GOPATH/bin). When it is missing the test
// is skipped and the skip recorded for `make test`'s summary, except in CI,
// where a skip would hide a broken install.
func Tool(t testing.TB, name string) string {
	t.Helper()
	return testenv.Tool(t, name)
}
