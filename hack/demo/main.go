package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("bin", "bin", "folder holding ocicred and docker-credential-ocicred (make build)")
	keep := flag.Bool("keep", false, "keep the temp folder (config, logs) for inspection")
	inProcess := flag.Bool("in-process", false, "serve the registry in process even when docker-registry is installed")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	err := run(ctx, *bin, *keep, *inProcess)
	switch {
	case err == nil:
		fmt.Println("demo: ok")
	case errors.Is(ctx.Err(), context.Canceled):
		fmt.Fprintln(os.Stderr, "demo: interrupted")
		os.Exit(130)
	default:
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

// run sets up the demo, runs its steps, and tears everything down however
// the steps ended.
func run(ctx context.Context, binDir string, keep, inProcess bool) error {
	bin, err := findBinaries(binDir)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ocicred-demo-")
	if err != nil {
		return fmt.Errorf("make temp folder: %w", err)
	}
	d := &demo{bin: bin, dir: dir, inProcess: inProcess}
	err = d.steps(ctx)
	if terr := d.teardown(err != nil, keep); err == nil {
		err = terr
	}
	return err
}

type binaries struct{ dir, ocicred, helper string }

func findBinaries(dir string) (binaries, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return binaries{}, fmt.Errorf("--bin %s: %w", dir, err)
	}
	b := binaries{dir: abs, ocicred: filepath.Join(abs, "ocicred"), helper: filepath.Join(abs, "docker-credential-ocicred")}
	for _, p := range []string{b.ocicred, b.helper} {
		if _, err := os.Stat(p); err != nil {
			return binaries{}, fmt.Errorf("%w (run make build first)", err)
		}
	}
	return b, nil
}
