package fakekit

import (
	"log/slog"
	"strings"
	"testing"
)

// TestLogger returns a logger that writes text records to t.Log, one line
// a record, so that a fake's log shows with the test that made it.
func TestLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, nil))
}

// testWriter is an io.Writer onto t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Start runs start for one test and closes what it returns when the test
// ends. An error from start fails the test at once, as "NAME: error";
// name is the fake's package name.
func Start[S interface{ Close() }](t testing.TB, name string, start func() (S, error)) S {
	t.Helper()
	s, err := start()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Cleanup(s.Close)
	return s
}
