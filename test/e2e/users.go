package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ocicred/ocicred/test/e2e/subproc"
	"github.com/ocicred/ocicred/test/testenv"
)

// The access-control tests run the real programs as real users: system
// users and groups created for one test (named ocicred-t-<random>-…, and
// removed when it ends), binaries copied where they may run them, and
// commands started with their uid, gid and supplementary groups.

// TestUser is a system user created for one test.
type TestUser struct {
	Name   string
	UID    uint32
	GID    uint32   // primary group
	Groups []uint32 // supplementary groups, as the process gets them
}

// RequireRoot skips t unless it runs as root; in CI it fails instead. Call
// it at the top of the test, right after Need; why says what needs root.
func RequireRoot(t testing.TB, why string) {
	t.Helper()
	testenv.RequireRoot(t, why)
}

func isRoot() bool { return os.Geteuid() == 0 }

// UniqueName is "ocicred-t-" and 6 random hex digits: short enough for
// useradd's 32 characters with a suffix, unlikely to collide.
func UniqueName() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return "ocicred-t-" + hex.EncodeToString(b)
}

// CreateGroup runs groupadd and returns the new group's gid; the group is
// removed when the test ends.
func CreateGroup(t testing.TB, name string) uint32 {
	t.Helper()
	mustBeRoot(t, "groupadd")
	runAdmin(t, tool(t, "groupadd"), name)
	t.Cleanup(func() { runAdminCleanup(t, "groupdel", name) })
	g, err := user.LookupGroup(name)
	if err != nil {
		t.Fatalf("group %s: %v", name, err)
	}
	gid, _ := strconv.ParseUint(g.Gid, 10, 32)
	return uint32(gid)
}

// CreateUser runs useradd (no home, no login shell, in the groups named)
// and returns the user; it is removed when the test ends.
func CreateUser(t testing.TB, name string, groups ...string) TestUser {
	t.Helper()
	mustBeRoot(t, "useradd")
	args := []string{"--no-create-home", "--shell", "/usr/sbin/nologin", "--no-user-group"}
	if len(groups) > 0 {
		args = append(args, "--groups", strings.Join(groups, ","))
	}
	runAdmin(t, tool(t, "useradd"), append(args, name)...)
	t.Cleanup(func() { runAdminCleanup(t, "userdel", name) })
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("user %s: %v", name, err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	tu := TestUser{Name: name, UID: uint32(uid), GID: uint32(gid)}
	for _, g := range groups {
		grp, err := user.LookupGroup(g)
		if err != nil {
			t.Fatalf("group %s: %v", g, err)
		}
		id, _ := strconv.ParseUint(grp.Gid, 10, 32)
		tu.Groups = append(tu.Groups, uint32(id))
	}
	return tu
}

// adminMu serialises useradd, groupadd and their undoing: parallel tests
// would otherwise race for the lock on /etc/passwd and /etc/group.
var adminMu sync.Mutex

func runAdmin(t testing.TB, bin string, args ...string) {
	t.Helper()
	adminMu.Lock()
	defer adminMu.Unlock()
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
}

// runAdminCleanup removes what runAdmin made; a failure is an error, not a
// reason to stop other cleanups.
func runAdminCleanup(t testing.TB, name string, args ...string) {
	adminMu.Lock()
	defer adminMu.Unlock()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// Credential is what a process started as u runs with.
func (u TestUser) Credential() *syscall.Credential {
	return &syscall.Credential{Uid: u.UID, Gid: u.GID, Groups: u.Groups}
}

// PublicDir makes a folder every user may enter (t.TempDir's are root's
// alone); it is removed when the test ends.
func PublicDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ocicred-users-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// PublicBinaries copies both programs side by side into dir/bin, mode 0755,
// where other users may run them (the build folder is root's alone).
func PublicBinaries(t testing.TB, bin Binaries, dir string) Binaries {
	t.Helper()
	out := Binaries{Dir: filepath.Join(dir, "bin")}
	out.Ocicred, out.Helper = filepath.Join(out.Dir, "ocicred"), filepath.Join(out.Dir, "docker-credential-ocicred")
	if err := os.MkdirAll(out.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for src, dst := range map[string]string{bin.Ocicred: out.Ocicred, bin.Helper: out.Helper} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// RunAs runs name with args as u, in dir (which u must be able to enter),
// with the sandbox's environment, stdin as its input, within one minute.
// It is not logged: the caller logs what it checks (see LogRun).
func (e *Env) RunAs(u TestUser, dir, stdin, name string, args ...string) Result {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(e.Environ(), "HOME="+dir, "USER="+u.Name)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: u.Credential()}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return Result{Stdout: stdout.String(), Stderr: stderr.String(), ExitCode: exitCode(err), Err: err}
}

// UserDaemon is `ocicred daemon` running as a TestUser.
type UserDaemon struct {
	cmd  *exec.Cmd
	out  *subproc.Buffer
	done chan struct{}
	err  error
}

// StartDaemonAs runs `ocicred daemon --log-level debug` as u, on the
// sandbox's config and socket, in dir, and returns once the socket
// accepts. It gets its own process group and dies with the test binary
// (the kernel's parent-death signal, set after the switch to u). It is
// stopped with the test.
func StartDaemonAs(t testing.TB, env *Env, u TestUser, dir string) *UserDaemon {
	t.Helper()
	cmd := exec.Command(env.Bin.Ocicred, "daemon", "--config", env.Config, "--socket", env.Socket, "--log-level", "debug")
	cmd.Env = append(env.Environ(), "HOME="+dir, "USER="+u.Name)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: u.Credential(), Setpgid: true, Pdeathsig: syscall.SIGKILL}
	d := &UserDaemon{cmd: cmd, out: &subproc.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = d.out, d.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the daemon as %s: %v", u.Name, err)
	}
	go func() {
		d.err = cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		d.Stop(t)
		if t.Failed() {
			t.Logf("daemon (as %s) log:\n%s", u.Name, env.Redact(indent(d.Log())))
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		conn, err := net.DialTimeout("unix", env.Socket, time.Second)
		if err == nil {
			_ = conn.Close()
			break
		}
		select {
		case <-d.done:
			t.Fatalf("the daemon (as %s) exited before its socket accepted: %v\n%s", u.Name, d.err, d.Log())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the daemon (as %s): socket %s did not accept within 15s: %v", u.Name, env.Socket, err)
		}
	}
	t.Logf("daemon %d ready on %s as %s (uid %d)", cmd.Process.Pid, env.Socket, u.Name, u.UID)
	return d
}

// Log is what the daemon wrote so far.
func (d *UserDaemon) Log() string { return d.out.String() }

// Signal sends sig to the daemon.
func (d *UserDaemon) Signal(sig syscall.Signal) error { return d.cmd.Process.Signal(sig) }

// Stop sends SIGTERM and fails the test unless the daemon exits with status
// 0 within 10 s; a daemon that has already exited is left alone.
func (d *UserDaemon) Stop(t testing.TB) {
	t.Helper()
	select {
	case <-d.done:
		return
	default:
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("SIGTERM: %v", err)
	}
	select {
	case <-d.done:
		if d.err != nil {
			t.Errorf("the daemon did not stop cleanly on SIGTERM: %v", d.err)
		}
	case <-time.After(10 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
		t.Error(fmt.Errorf("the daemon still ran 10s after SIGTERM: killed"))
	}
}
