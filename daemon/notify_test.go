package daemon

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func syscallKill(pid int) error { return syscall.Kill(pid, syscall.SIGHUP) }

// The default Notify speaks sd_notify to NOTIFY_SOCKET: READY at start,
// RELOADING and READY around a reload, STOPPING on the way out.
func TestSdNotify(t *testing.T) {
	dir := t.TempDir()
	notifyPath := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notifyPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", notifyPath)

	cfgPath := filepath.Join(dir, "config.yaml")
	writeConfig(t, cfgPath, "registries:\n"+basicConfig("a", "a.example", "pw"))
	d := New(Options{ConfigPath: cfgPath, Socket: filepath.Join(dir, "d.sock"), Debounce: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()

	read := func() string {
		t.Helper()
		buf := make([]byte, 256)
		if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		n, _, err := conn.ReadFromUnix(buf)
		if err != nil {
			t.Fatalf("no notification: %v", err)
		}
		return string(buf[:n])
	}
	if got := read(); got != "READY=1" {
		t.Errorf("first = %q, want READY=1", got)
	}
	writeConfig(t, cfgPath, "registries:\n"+basicConfig("a", "a.example", "pw2"))
	d.Reload("test")
	if got := read(); got != "RELOADING=1" {
		t.Errorf("at reload = %q, want RELOADING=1", got)
	}
	if got := read(); got != "READY=1" {
		t.Errorf("after reload = %q, want READY=1", got)
	}
	cancel()
	if got := read(); got != "STOPPING=1" {
		t.Errorf("at stop = %q, want STOPPING=1", got)
	}
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "d.sock")); !os.IsNotExist(err) {
		t.Errorf("socket left behind after stop: %v", err)
	}
}
