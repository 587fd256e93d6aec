package subproc

import "syscall"

// procAttr puts the child in its own process group and has the kernel kill it
// when the parent dies (a test binary killed on timeout, a demo killed with
// SIGKILL), so no registry or daemon outlives its run.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
