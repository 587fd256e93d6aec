package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Binaries are the two programs under test, side by side in Dir (the helper
// finds `ocicred` next to itself for its daemon-less fallback).
type Binaries struct {
	Dir     string
	Ocicred string
	Helper  string
}

// binEnv names a folder holding prebuilt binaries (e.g. after `make build`,
// OCICRED_E2E_BIN=$PWD/bin); unset, the suite builds them.
const binEnv = "OCICRED_E2E_BIN"

var (
	buildOnce sync.Once
	built     Binaries
	buildErr  error
	buildDir  string // removed by Main
)

// BuildBinaries builds ./cmd/ocicred and ./cmd/docker-credential-ocicred once
// per test binary, as `make build` does, and returns them.
func BuildBinaries(t testing.TB) Binaries {
	t.Helper()
	buildOnce.Do(func() { built, buildErr = build() })
	if buildErr != nil {
		t.Fatalf("build the binaries under test: %v", buildErr)
	}
	return built
}

func build() (Binaries, error) {
	if dir := os.Getenv(binEnv); dir != "" {
		if a, err := filepath.Abs(dir); err == nil {
			dir = a
		}
		return binariesIn(dir)
	}
	root, err := moduleRoot()
	if err != nil {
		return Binaries{}, err
	}
	buildDir, err = os.MkdirTemp("", "ocicred-e2e-bin-")
	if err != nil {
		return Binaries{}, fmt.Errorf("make build dir: %w", err)
	}
	cmd := exec.Command("go", "build", "-trimpath", "-o", buildDir+string(filepath.Separator),
		"./cmd/ocicred", "./cmd/docker-credential-ocicred")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return Binaries{}, fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	return binariesIn(buildDir)
}

func binariesIn(dir string) (Binaries, error) {
	b := Binaries{
		Dir:     dir,
		Ocicred: filepath.Join(dir, "ocicred"),
		Helper:  filepath.Join(dir, "docker-credential-ocicred"),
	}
	for _, p := range []string{b.Ocicred, b.Helper} {
		if _, err := os.Stat(p); err != nil {
			return Binaries{}, fmt.Errorf("binary under test: %w", err)
		}
	}
	return b, nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside the ocicred module")
	}
	return filepath.Dir(gomod), nil
}

// Main runs the tests and removes what BuildBinaries built. Call it from
// TestMain: func TestMain(m *testing.M) { e2e.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}
