package e2e

import (
	"os"
	"strings"
	"testing"
)

// Setup runs `ocicred setup CLIENT ARGS…` in the sandbox, the way a user
// wires a client to ocicred, and fails the test unless it exits 0. The
// client's auth file is the one its own variables name (DOCKER_CONFIG,
// REGISTRY_AUTH_FILE, HELM_REGISTRY_CONFIG, XDG_CONFIG_HOME; see SetVar).
func (e *Env) Setup(t testing.TB, client string, args ...string) Result {
	t.Helper()
	r := e.Run(t, "", e.Bin.Ocicred, append([]string{"setup", client, "--config", e.Config}, args...)...)
	if r.Err != nil {
		t.Fatalf("ocicred setup %s: %v", client, r.Err)
	}
	if strings.Contains(r.Stderr, "warning") {
		t.Errorf("ocicred setup %s warned: %s", client, r.Stderr)
	}
	return r
}

// SetVar sets the variable name to value for every program the sandbox runs
// from now on, in place of an earlier SetVar or Extra entry of that name.
func (e *Env) SetVar(name, value string) {
	e.UnsetVar(name)
	e.Extra = append(e.Extra, name+"="+value)
}

// UnsetVar takes name out of Extra (it cannot take out what Environ itself
// sets).
func (e *Env) UnsetVar(name string) {
	kept := e.Extra[:0:0]
	for _, kv := range e.Extra {
		if !strings.HasPrefix(kv, name+"=") {
			kept = append(kept, kv)
		}
	}
	e.Extra = kept
}

// ReadFile returns the content of path, failing the test if it cannot.
func ReadFile(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
