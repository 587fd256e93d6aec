package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ocicred/ocicred/test/e2e/localreg"
	"github.com/ocicred/ocicred/test/e2e/subproc"
)

// startRegistry runs the distribution registry when it and htpasswd are
// installed and inProcess is false, else the in-process one.
func startRegistry(ctx context.Context, dir, user, password string, inProcess bool) (*localreg.Registry, error) {
	regBin, err1 := exec.LookPath("docker-registry")
	htpasswd, err2 := exec.LookPath("htpasswd")
	if inProcess || err1 != nil || err2 != nil {
		return localreg.StartInProcess(user, password)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("make the registry folder: %w", err)
	}
	return localreg.StartDistribution(ctx, localreg.Distribution{
		Dir: dir, User: user, Password: password, RegistryBin: regBin, HtpasswdBin: htpasswd,
	})
}

func (d *demo) startDaemon(ctx context.Context) error {
	cmd := exec.Command(d.bin.ocicred, "daemon", "--config", d.config, "--socket", d.socket)
	cmd.Env = d.environ()
	proc, err := subproc.Start(cmd)
	if err != nil {
		return err
	}
	d.daemon = proc
	if err := waitSocket(ctx, d.socket, proc, 15*time.Second); err != nil {
		return fmt.Errorf("ocicred daemon: %w", err)
	}
	d.say("", "daemon: %s daemon (pid %d) serving on %s", d.bin.ocicred, proc.Pid(), d.socket)
	return nil
}

// waitSocket waits until the socket accepts, the process exits, or timeout.
func waitSocket(ctx context.Context, socket string, proc *subproc.Proc, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		conn, err := net.DialTimeout("unix", socket, time.Second)
		if err == nil {
			return conn.Close()
		}
		select {
		case <-proc.Done():
			return fmt.Errorf("exited before its socket accepted: %v", proc.Err())
		case <-ctx.Done():
			return fmt.Errorf("socket %s did not accept: %w (last: %v)", socket, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// own is what the demo decides in the environment of the programs it runs:
// the binaries under test first on PATH, and the demo's own configs. An empty
// value (a config not written yet) means unset.
func (d *demo) own() map[string]string {
	return map[string]string{
		"PATH":               d.bin.dir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"DOCKER_CONFIG":      d.dockerConfig,
		"OCICRED_CONFIG":     d.config,
		"OCICRED_SOCKET":     d.socket,
		"REGISTRY_AUTH_FILE": "",
	}
}

// environ is the environment of every program the demo runs: ours, with
// own() in place of what we had under those names.
func (d *demo) environ() []string {
	own := d.own()
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, mine := own[k]; !mine {
			env = append(env, kv)
		}
	}
	for k, v := range own {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// runOutput runs a program in the demo's environment and returns its
// combined output.
func (d *demo) runOutput(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = d.environ()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// teardown stops the daemon and the registry and removes the temp folder. On
// failure it shows the daemon's log, with the password redacted.
func (d *demo) teardown(failed, keep bool) error {
	var errs []error
	if d.daemon != nil {
		if err := d.daemon.Stop(10 * time.Second); err != nil {
			errs = append(errs, fmt.Errorf("ocicred daemon did not stop cleanly on SIGTERM: %w", err))
		}
		if failed || len(errs) > 0 {
			log := strings.ReplaceAll(d.daemon.Output(), d.password, "REDACTED")
			fmt.Fprintf(os.Stderr, "ocicred daemon log:\n%s\n", log)
		}
	}
	if d.reg != nil {
		if err := d.reg.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	done := "removed " + d.dir
	if keep {
		done = "kept " + d.dir
	} else if err := os.RemoveAll(d.dir); err != nil {
		errs = append(errs, fmt.Errorf("remove %s: %w", d.dir, err))
	}
	d.say("", "stopped the daemon and the registry; %s", done)
	return errors.Join(errs...)
}

// lookPath finds name in the PATH of env, which may differ from ours.
func lookPath(name string, env []string) (string, error) {
	for _, kv := range env {
		if path, ok := strings.CutPrefix(kv, "PATH="); ok {
			for _, dir := range filepath.SplitList(path) {
				p := filepath.Join(dir, name)
				if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
					return p, nil
				}
			}
		}
	}
	return "", fmt.Errorf("%s: %w", name, exec.ErrNotFound)
}
