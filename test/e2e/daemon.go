package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ocicred/ocicred/test/e2e/subproc"
)

// Daemon is a running `ocicred daemon`.
type Daemon struct {
	env  *Env
	proc *subproc.Proc
}

// StartDaemon runs `ocicred daemon --config CFG --socket SOCK --log-level
// debug` in the sandbox and returns once the socket accepts connections. Its
// log (stderr) is kept; it is shown, redacted, if the test fails. The daemon is stopped with the
// test if it is still running, and then must exit cleanly.
func StartDaemon(t testing.TB, env *Env) *Daemon {
	t.Helper()
	// Debug logging: the no-secret-in-logs checks see the most there is to see.
	cmd := exec.Command(env.Bin.Ocicred, "daemon", "--config", env.Config, "--socket", env.Socket, "--log-level", "debug")
	cmd.Env = env.Environ()
	cmd.Dir = env.Root
	proc, err := subproc.Start(cmd)
	if err != nil {
		t.Fatalf("start the daemon: %v", err)
	}
	d := &Daemon{env: env, proc: proc}
	t.Cleanup(func() { d.cleanup(t) })
	if err := d.waitReady(15 * time.Second); err != nil {
		t.Fatalf("daemon: %v", err)
	}
	t.Logf("daemon %d ready on %s", proc.Pid(), env.Socket)
	return d
}

func (d *Daemon) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("unix", d.env.Socket, time.Second)
		if err == nil {
			return conn.Close()
		}
		select {
		case <-d.proc.Done():
			return fmt.Errorf("exited before its socket accepted: %v", d.proc.Err())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("socket %s did not accept within %s: %w", d.env.Socket, timeout, err)
		}
	}
}

// Log is what the daemon wrote to stderr (and stdout) so far, unredacted.
func (d *Daemon) Log() string { return d.proc.Output() }

// WaitLog waits until the daemon's log holds a line that match accepts, and
// returns the first such line: the daemon writes its log through a pipe, so
// a line it wrote before answering may reach the test after the answer. It
// fails the test after a minute (a guard: the line is due in milliseconds).
func (d *Daemon) WaitLog(t testing.TB, what string, match func(line string) bool) string {
	t.Helper()
	return waitLogLine(t, what, d.proc.WaitOutput, match)
}

// waitLogLine waits, with wait, for a line that match accepts.
func waitLogLine(t testing.TB, what string, wait func(context.Context, func(string) bool) error, match func(string) bool) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var found string
	err := wait(ctx, func(log string) bool {
		for _, line := range strings.Split(log, "\n") {
			if match(line) {
				found = line
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("the daemon did not log %s: %v", what, err)
	}
	return found
}

// Stop sends SIGTERM and fails the test unless the daemon exits with status 0
// within 10 s.
func (d *Daemon) Stop(t testing.TB) {
	t.Helper()
	if err := d.proc.Stop(10 * time.Second); err != nil {
		t.Errorf("daemon did not stop cleanly on SIGTERM: %v", err)
	}
}

// Kill sends SIGKILL, as a crash would: the socket file stays behind.
func (d *Daemon) Kill(t testing.TB) {
	t.Helper()
	if err := d.proc.Kill(); err != nil {
		t.Fatal(err)
	}
}

func (d *Daemon) cleanup(t testing.TB) {
	if !d.proc.Exited() {
		if err := d.proc.Stop(10 * time.Second); err != nil && !errors.Is(err, subproc.ErrExited) {
			t.Errorf("daemon did not stop cleanly on SIGTERM: %v", err)
		}
	}
	if t.Failed() {
		t.Logf("daemon log:\n%s", d.env.Redact(indent(d.Log())))
	}
}
