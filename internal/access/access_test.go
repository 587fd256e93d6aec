package access

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestFromConnReadsOwnIdentity(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan Caller, 1)
	errs := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			errs <- err
			return
		}
		defer c.Close()
		caller, err := FromConn(c)
		if err != nil {
			errs <- err
			return
		}
		got <- caller
	}()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case err := <-errs:
		t.Fatal(err)
	case caller := <-got:
		self := Self()
		if caller.UID != self.UID || caller.PID != os.Getpid() || !caller.InGroup(os.Getgid()) {
			t.Errorf("FromConn = %+v, want uid %d pid %d gid %d", caller, self.UID, os.Getpid(), os.Getgid())
		}
	}
}

func TestAllowed(t *testing.T) {
	// root (uid 0, group root 0) exists on every Linux machine.
	root := Caller{UID: 0, GIDs: []int{0}}
	other := Caller{UID: 4242, GIDs: []int{4242, 0}}
	stranger := Caller{UID: 4343, GIDs: []int{4343}}
	tests := []struct {
		allow  []string
		caller Caller
		want   bool
	}{
		{nil, stranger, true},
		{[]string{"root"}, root, true},
		{[]string{"root"}, other, false},
		{[]string{"0"}, root, true},
		{[]string{"4242"}, other, true},
		{[]string{"group:root"}, other, true},
		{[]string{"group:root"}, stranger, false},
		{[]string{"group:" + strconv.Itoa(4343)}, stranger, true},
		{[]string{"no-such-user-xyz", "group:no-such-group-xyz"}, stranger, false},
		{[]string{"no-such-user-xyz", "4343"}, stranger, true},
	}
	for _, tt := range tests {
		if got := Allowed(tt.allow, tt.caller); got != tt.want {
			t.Errorf("Allowed(%v, %+v) = %v, want %v", tt.allow, tt.caller, got, tt.want)
		}
	}
}

func TestGroupID(t *testing.T) {
	if gid, err := GroupID("root"); err != nil || gid != 0 {
		t.Errorf("GroupID(root) = %d, %v", gid, err)
	}
	if gid, err := GroupID("77"); err != nil || gid != 77 {
		t.Errorf("GroupID(77) = %d, %v", gid, err)
	}
	if _, err := GroupID("no-such-group-xyz"); err == nil {
		t.Error("GroupID of a missing group did not fail")
	}
}
