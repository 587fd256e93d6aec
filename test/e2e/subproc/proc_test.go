package subproc

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func start(t *testing.T, script string) *Proc {
	t.Helper()
	p, err := Start(exec.Command("/bin/sh", "-c", script))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Kill() })
	return p
}

func TestStopGraceful(t *testing.T) {
	p := start(t, `trap 'echo bye; exit 0' TERM; echo hello; while :; do sleep 0.05; done`)
	waitOutput(t, p, func(out string) bool { return strings.Contains(out, "hello") })
	if err := p.Stop(5 * time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if got := p.Output(); got != "hello\nbye\n" {
		t.Errorf("output %q, want hello and bye", got)
	}
}

func TestStopReportsUncleanExit(t *testing.T) {
	p := start(t, `trap 'exit 3' TERM; echo up; while :; do sleep 0.05; done`)
	waitOutput(t, p, func(out string) bool { return out != "" })
	if err := p.Stop(5 * time.Second); err == nil {
		t.Fatal("Stop returned nil for exit status 3")
	}
}

func TestStopKillsAfterTimeout(t *testing.T) {
	p := start(t, `trap '' TERM; echo up; while :; do sleep 0.05; done`)
	waitOutput(t, p, func(out string) bool { return out != "" })
	if err := p.Stop(200 * time.Millisecond); err == nil || !p.Exited() {
		t.Fatalf("Stop = %v, exited %v; want an error and a dead process", err, p.Exited())
	}
}

func TestStopAfterExit(t *testing.T) {
	p := start(t, `exit 0`)
	<-p.Done()
	if err := p.Stop(time.Second); !errors.Is(err, ErrExited) {
		t.Fatalf("Stop = %v, want ErrExited", err)
	}
}

// waitOutput waits, write by write, until cond holds for p's output; the
// minute is a guard, not a deadline.
func waitOutput(t *testing.T, p *Proc, cond func(string) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := p.WaitOutput(ctx, cond); err != nil {
		t.Fatalf("output %q: %v", p.Output(), err)
	}
}
