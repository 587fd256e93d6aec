package access

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// childSocketEnv names the socket a child of TestFromConnReadsPeerGroups
// connects to.
const childSocketEnv = "OCICRED_ACCESS_TEST_SOCKET"

// TestMain runs the child of TestFromConnReadsPeerGroups when asked: it
// connects to the socket and waits until the other end closes.
func TestMain(m *testing.M) {
	if sock := os.Getenv(childSocketEnv); sock != "" {
		c, err := net.Dial("unix", sock)
		if err != nil {
			os.Exit(2)
		}
		_, _ = c.Read(make([]byte, 1))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestFromConnReadsPeerGroups runs a process with supplementary groups
// this one does not have (more than peerGroups' first buffer holds), and
// checks that FromConn reads them from its connection, and that the socket
// and /proc agree on them.
func TestFromConnReadsPeerGroups(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("setting a child's groups needs root")
	}
	sock := filepath.Join(t.TempDir(), "s")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var want []uint32
	for g := range uint32(40) {
		want = append(want, 4200+g)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childSocketEnv+"="+sock)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 0, Gid: 0, Groups: want}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Wait() }()
	_ = ln.(*net.UnixListener).SetDeadline(time.Now().Add(30 * time.Second))
	c, err := ln.Accept()
	if err != nil {
		_ = cmd.Process.Kill()
		t.Fatal(err)
	}
	defer c.Close()
	caller, err := FromConn(c)
	if err != nil {
		t.Fatal(err)
	}
	if caller.PID != cmd.Process.Pid || caller.UID != 0 {
		t.Errorf("FromConn = %+v, want pid %d uid 0", caller, cmd.Process.Pid)
	}
	for _, g := range want {
		if !caller.InGroup(int(g)) {
			t.Errorf("FromConn = %+v, not in group %d", caller, g)
		}
	}
	if caller.InGroup(4545) {
		t.Errorf("FromConn = %+v, in a group the child does not have", caller)
	}
	raw, err := c.(*net.UnixConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fromSocket []int
	var sockErr error
	_ = raw.Control(func(fd uintptr) { fromSocket, sockErr = peerGroups(int(fd)) })
	fromProc, procErr := procGroups(cmd.Process.Pid)
	if sockErr != nil || procErr != nil || !slices.Equal(fromSocket, fromProc) {
		t.Errorf("groups from the socket %v (%v), from /proc %v (%v): want the same", fromSocket, sockErr, fromProc, procErr)
	}
}
