package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Binaries are the programs measured, built by Build in one run with the
// same flags.
type Binaries struct {
	Dir     string
	Ocicred string
	Helper  string
	// Hello is the floor: a Go program that prints one line.
	Hello string
}

// BuildFlags are `make build`'s (without its -X version stamps), used for
// all three programs: -trimpath, CGO_ENABLED=0, -ldflags '-s -w'.
var BuildFlags = []string{"-trimpath", "-ldflags", "-s -w"}

// SourceEnv names another checkout of ocicred to build the programs from
// (to compare with a release, or while the working tree does not build);
// unset, the module the tests run in.
const SourceEnv = "OCICRED_BENCH_SRC"

const helloMain = `package main

import "fmt"

func main() { fmt.Println("hello") }
`

// Build builds ocicred, docker-credential-ocicred and the hello-world floor
// into dir.
func Build(ctx context.Context, dir string) (Binaries, error) {
	src := os.Getenv(SourceEnv)
	if src == "" {
		var err error
		if src, err = moduleRoot(ctx); err != nil {
			return Binaries{}, err
		}
	}
	b := Binaries{
		Dir:     dir,
		Ocicred: filepath.Join(dir, "ocicred"),
		Helper:  filepath.Join(dir, "docker-credential-ocicred"),
		Hello:   filepath.Join(dir, "hello"),
	}
	args := append(append([]string{"build"}, BuildFlags...), "-o", dir+string(filepath.Separator),
		"./cmd/ocicred", "./cmd/docker-credential-ocicred")
	if err := goCmd(ctx, src, args...); err != nil {
		return Binaries{}, err
	}
	if _, err := buildStandalone(ctx, dir, "hello", helloMain); err != nil {
		return Binaries{}, err
	}
	return b, nil
}

// buildStandalone builds main, the source of a program that needs only the
// standard library, as a module of its own named name, with BuildFlags,
// into dir/name, and returns that path.
func buildStandalone(ctx context.Context, dir, name, main string) (string, error) {
	src := filepath.Join(dir, name+"-src")
	if err := os.MkdirAll(src, 0o700); err != nil {
		return "", err
	}
	for file, content := range map[string]string{"go.mod": "module " + name + "\n\ngo 1.26\n", "main.go": main} {
		if err := os.WriteFile(filepath.Join(src, file), []byte(content), 0o600); err != nil {
			return "", err
		}
	}
	bin := filepath.Join(dir, name)
	if err := goCmd(ctx, src, append(append([]string{"build"}, BuildFlags...), "-o", bin, ".")...); err != nil {
		return "", err
	}
	return bin, nil
}

// goCmd runs `go ARGS` in dir with CGO_ENABLED=0.
func goCmd(ctx context.Context, dir string, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s (in %s): %w\n%s", strings.Join(args, " "), dir, err, out)
	}
	return nil
}

func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside the ocicred module")
	}
	return filepath.Dir(gomod), nil
}

// sizeMiB is a file's size in MiB, 0 when it cannot be read.
func sizeMiB(path string) float64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return float64(fi.Size()) / (1 << 20)
}
