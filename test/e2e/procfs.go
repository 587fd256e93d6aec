package e2e

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Pid is the daemon's process id.
func (d *Daemon) Pid() int { return d.proc.Pid() }

// OpenFiles counts the file descriptors process pid has open, from
// /proc/PID/fd (0 is this process).
func OpenFiles(pid int) (int, error) {
	entries, err := os.ReadDir(procDir(pid) + "/fd")
	if err != nil {
		return 0, err
	}
	return len(entries), nil
}

// FileCounts splits a process's open files in two: TCP connections with
// port at either end (to or from a server on that port; listeners not
// included), and everything else.
type FileCounts struct {
	ConnsOnPort, Other int
}

// CountOpenFiles counts process pid's open files (0: this process) as
// FileCounts, reading /proc/PID/fd and /proc/PID/net/tcp{,6}.
func CountOpenFiles(pid, port int) (FileCounts, error) {
	dir := procDir(pid)
	onPort, err := connsOnPort(dir, port)
	if err != nil {
		return FileCounts{}, err
	}
	entries, err := os.ReadDir(dir + "/fd")
	if err != nil {
		return FileCounts{}, err
	}
	var c FileCounts
	for _, e := range entries {
		link, err := os.Readlink(filepath.Join(dir, "fd", e.Name()))
		if err != nil {
			continue // closed meanwhile (ReadDir's own fd)
		}
		inode, ok := strings.CutPrefix(link, "socket:[")
		if ok && onPort[strings.TrimSuffix(inode, "]")] {
			c.ConnsOnPort++
		} else {
			c.Other++
		}
	}
	return c, nil
}

func procDir(pid int) string {
	if pid == 0 {
		return "/proc/self"
	}
	return fmt.Sprintf("/proc/%d", pid)
}

// connsOnPort is the set of socket inodes of TCP connections (not
// listeners) with port at either end, from the process's network namespace.
func connsOnPort(dir string, port int) (map[string]bool, error) {
	out := map[string]bool{}
	for _, name := range []string{"tcp", "tcp6"} {
		f, err := os.Open(filepath.Join(dir, "net", name))
		if err != nil {
			if name == "tcp6" {
				continue
			}
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] == "0A" { // 0A: LISTEN
				continue
			}
			if hexPort(fields[1]) == port || hexPort(fields[2]) == port {
				out[fields[9]] = true
			}
		}
		f.Close()
	}
	return out, nil
}

// hexPort is the port of a /proc/net/tcp address, "0100007F:1F90".
func hexPort(addr string) int {
	_, p, ok := strings.Cut(addr, ":")
	if !ok {
		return -1
	}
	n, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return -1
	}
	return int(n)
}
