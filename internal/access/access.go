// Package access decides who may have what: it reads a local caller's
// identity from a unix socket (SO_PEERCRED and the caller's groups), and
// matches it against a registry's allow list.
package access

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Caller is a local process asking for credentials.
type Caller struct {
	PID  int
	UID  int
	GIDs []int // primary group first, then supplementary groups
}

// Self is the current process as a caller: what the daemon-less fallback
// answers for.
func Self() Caller {
	gids := []int{os.Getgid()}
	if extra, err := os.Getgroups(); err == nil {
		gids = append(gids, extra...)
	}
	return Caller{PID: os.Getpid(), UID: os.Getuid(), GIDs: gids}
}

// FromConn reads the peer of a unix socket connection. Its groups are the
// ones the process really had when it connected (not what /etc/group says
// it could have): from the socket (SO_PEERGROUPS, as SO_PEERCRED gives its
// uid and gid), or, on a kernel older than Linux 4.13, from
// /proc/PID/status.
func FromConn(c net.Conn) (Caller, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return Caller{}, fmt.Errorf("not a unix socket connection: %T", c)
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return Caller{}, err
	}
	var cred *unix.Ucred
	var credErr, groupsErr error
	var groups []int
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		groups, groupsErr = peerGroups(int(fd))
	}); err != nil {
		return Caller{}, err
	}
	if credErr != nil {
		return Caller{}, fmt.Errorf("SO_PEERCRED: %w", credErr)
	}
	caller := Caller{PID: int(cred.Pid), UID: int(cred.Uid), GIDs: []int{int(cred.Gid)}}
	if groupsErr != nil {
		groups, groupsErr = procGroups(caller.PID)
	}
	if groupsErr == nil {
		for _, g := range groups {
			if !slices.Contains(caller.GIDs, g) {
				caller.GIDs = append(caller.GIDs, g)
			}
		}
	}
	return caller, nil
}

// peerGroups reads the supplementary groups the peer of a unix socket had
// when it connected (getsockopt SO_PEERGROUPS, Linux 4.13 and later: an
// array of gid_t, ERANGE and the size needed when the buffer is short). It
// is what the daemon does per request: one system call, where reading
// /proc/PID/status was an open, a read of a page the kernel formats, and
// a close, and a third of the daemon's time per answer.
func peerGroups(fd int) ([]int, error) {
	buf := make([]uint32, 32)
	for {
		size := uint32(len(buf) * 4)
		_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_PEERGROUPS,
			uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&size)), 0)
		switch {
		case errno == unix.ERANGE && int(size/4) > len(buf):
			buf = make([]uint32, size/4)
			continue
		case errno != 0:
			return nil, fmt.Errorf("SO_PEERGROUPS: %w", errno)
		}
		gids := make([]int, size/4)
		for i := range gids {
			gids[i] = int(buf[i])
		}
		return gids, nil
	}
}

// procGroups reads the Groups: line of /proc/PID/status.
func procGroups(pid int) ([]int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "Groups:")
		if !ok {
			continue
		}
		var gids []int
		for _, f := range strings.Fields(rest) {
			if g, err := strconv.Atoi(f); err == nil {
				gids = append(gids, g)
			}
		}
		return gids, nil
	}
	return nil, fmt.Errorf("no Groups line in /proc/%d/status", pid)
}

// InGroup reports whether the caller has gid.
func (c Caller) InGroup(gid int) bool { return slices.Contains(c.GIDs, gid) }

// Allowed reports whether the caller matches one entry of an allow list:
// a user name, a numeric uid, group:NAME or group:GID. An empty list allows
// everyone who may ask at all. Names that do not resolve match nobody.
func Allowed(allow []string, c Caller) bool {
	if len(allow) == 0 {
		return true
	}
	for _, entry := range allow {
		if matches(strings.TrimSpace(entry), c) {
			return true
		}
	}
	return false
}

func matches(entry string, c Caller) bool {
	if group, ok := strings.CutPrefix(entry, "group:"); ok {
		gid, err := strconv.Atoi(group)
		if err != nil {
			g, lerr := user.LookupGroup(group)
			if lerr != nil {
				return false
			}
			gid, err = strconv.Atoi(g.Gid)
			if err != nil {
				return false
			}
		}
		return c.InGroup(gid)
	}
	uid, err := strconv.Atoi(entry)
	if err != nil {
		u, lerr := user.Lookup(entry)
		if lerr != nil {
			return false
		}
		if uid, err = strconv.Atoi(u.Uid); err != nil {
			return false
		}
	}
	return uid == c.UID
}

// CheckEntry checks one allow entry against this machine: a user name, a
// numeric uid, group:NAME or group:GID must exist (numbers always do). The
// error says which kind of name does not resolve, without quoting it.
func CheckEntry(entry string) error {
	entry = strings.TrimSpace(entry)
	if group, ok := strings.CutPrefix(entry, "group:"); ok {
		if _, err := strconv.Atoi(group); err == nil {
			return nil
		}
		if _, err := user.LookupGroup(group); err != nil {
			return errors.New("names a group that does not exist on this machine")
		}
		return nil
	}
	if _, err := strconv.Atoi(entry); err == nil {
		return nil
	}
	if _, err := user.Lookup(entry); err != nil {
		return errors.New("names a user that does not exist on this machine")
	}
	return nil
}

// GroupID resolves a group name (or a numeric gid) to its gid.
func GroupID(name string) (int, error) {
	if gid, err := strconv.Atoi(name); err == nil {
		return gid, nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, fmt.Errorf("group %q: %w; create it (groupadd --system %s) or change socketGroup", name, err, name)
	}
	return strconv.Atoi(g.Gid)
}
