package localapi

import (
	"context"
	"encoding/json"
	"net/http"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Each kind of context takes its own way to the daemon: without this the
// other tests, which run with both, could be testing one way twice.
func TestDialWayByContext(t *testing.T) {
	sock := fakeDaemon(t, holdSilent)
	for _, cc := range contexts {
		cn, err := NewClient(sock).dial(cc.ctx(t))
		if err != nil {
			t.Fatalf("%s context: %v", cc.name, err)
		}
		if _, blocking := cn.(*blockingConn); blocking != cc.blocking {
			t.Errorf("%s context: dial gave a %T, want blocking %v", cc.name, cn, cc.blocking)
		}
		cn.Close()
	}
}

// A signal that interrupts the blocked read (EINTR: with SO_RCVTIMEO set
// the kernel does not restart it) is not the end of the answer.
func TestBlockingReadGoesOnAfterSignals(t *testing.T) {
	sock := serve(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(200 * time.Millisecond)
		_ = json.NewEncoder(w).Encode(CredentialsBody{Registry: "r", Username: "u", Secret: "s"})
	})
	tid, errc := make(chan int, 1), make(chan error, 1)
	go func() {
		runtime.LockOSThread() // so that tid is the thread that blocks in read
		defer runtime.UnlockOSThread()
		tid <- unix.Gettid()
		_, err := NewClient(sock).Credentials(context.Background(), "a.example")
		errc <- err
	}()
	id := <-tid
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("Credentials, signalled while it waits: %v", err)
			}
			return
		case <-tick.C:
			// SIGURG: the runtime's own preemption signal, which it ignores
			// on a thread in a system call.
			if err := unix.Tgkill(unix.Getpid(), id, unix.SIGURG); err != nil {
				t.Fatal(err)
			}
		}
	}
}
