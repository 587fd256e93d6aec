package subproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// ErrExited says that the process had already exited when it was told to stop.
var ErrExited = errors.New("process had already exited")

// Proc is a started child process.
type Proc struct {
	cmd  *exec.Cmd
	out  *Buffer
	done chan struct{}
	err  error // what Wait returned; read only after done is closed
}

// Start starts cmd. Unless the caller set them, its stdout and stderr go to one
// in-memory buffer (see Output). The child gets its own process group, so a
// Ctrl-C in the terminal reaches only the parent, which stops it in order.
func Start(cmd *exec.Cmd) (*Proc, error) {
	out := &Buffer{}
	if cmd.Stdout == nil {
		cmd.Stdout = out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = out
	}
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p := &Proc{cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the child's process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Output is everything the child wrote so far (when Start captured it).
func (p *Proc) Output() string { return p.out.String() }

// WaitOutput waits until cond holds for Output (see Buffer.Wait).
func (p *Proc) WaitOutput(ctx context.Context, cond func(string) bool) error {
	return p.out.Wait(ctx, cond)
}

// Done is closed when the child has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the child has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is what waiting for the child returned: nil for exit status 0. It must
// be called only after Done is closed.
func (p *Proc) Err() error { return p.err }

// Stop sends SIGTERM and waits up to timeout for the child to exit, then kills
// it. It returns nil only when the child exited with status 0 after SIGTERM.
func (p *Proc) Stop(timeout time.Duration) error {
	if p.Exited() {
		return fmt.Errorf("%w: %v", ErrExited, p.err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("send SIGTERM to %d: %w", p.Pid(), err)
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("after SIGTERM: %w", p.err)
		}
		return nil
	case <-timer.C:
		_ = p.Kill()
		return fmt.Errorf("still running %s after SIGTERM: killed", timeout)
	}
}

// Kill sends SIGKILL and waits for the child to exit.
func (p *Proc) Kill() error {
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %d: %w", p.Pid(), err)
	}
	<-p.done
	return nil
}

// Buffer is a bytes.Buffer safe for one writer and concurrent readers.
type Buffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	grew chan struct{} // closed, and replaced, at every Write; nil until Wait
}

// Write appends b.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.grew != nil {
		close(b.grew)
		b.grew = nil
	}
	return b.buf.Write(p)
}

// Wait waits until cond holds for everything written so far, looking again
// at each write, or until ctx is done. A process's output reaches the
// buffer through a pipe a moment after the process wrote it: a test waits
// here for a line instead of reading once, too early, or polling.
func (b *Buffer) Wait(ctx context.Context, cond func(string) bool) error {
	for {
		b.mu.Lock()
		ok := cond(b.buf.String())
		if b.grew == nil {
			b.grew = make(chan struct{})
		}
		grew := b.grew
		b.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-grew:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// String returns a copy of everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
