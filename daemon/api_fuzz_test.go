package daemon

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ocicred/ocicred/internal/hostkey"
	"github.com/ocicred/ocicred/internal/localapi"
)

// fuzzPassword is the Basic registry's password: it may reach a caller in
// a 200 answer and nowhere else, the daemon's log included.
const fuzzPassword = "pw-fuzz-5b1d0c7e"

// fuzzEndpoint is the Basic registry's host key.
const fuzzEndpoint = "127.0.0.1:5000"

// FuzzCredentialsRequest asks one running daemon, over its real socket,
// for the credentials of arbitrary server addresses. It holds that the
// answer is the Basic registry's credentials exactly when the address's
// host key is its endpoint, not_found for every other valid address (the
// unprotected ECR registry included), and a bad request saying "invalid
// server address" and naming the address for an invalid one; that there
// is never a 5xx or any other answer; that the daemon still answers
// afterwards; and that the password never reaches its log.
func FuzzCredentialsRequest(f *testing.F) {
	for _, s := range []string{
		fuzzEndpoint, "http://127.0.0.1:5000/v2/", " 127.0.0.1:5000 ", "127.0.0.1:5000/app?x#y", "127.0.0.1:05000",
		"public.ecr.aws", "https://public.ecr.aws/v2/", "other.example", "docker.io", "[::1]:5000",
		"", "not a host", "127.0.0.1:0", "127.0.0.1:5000\x00", "\x00\x01\xff", "http://", "[::1", "a;b&server=127.0.0.1:5000",
	} {
		f.Add(s)
	}
	client, leaked := startFuzzDaemon(f)
	f.Fuzz(func(t *testing.T, server string) {
		if len(server) > 64<<10 {
			return // no address is that long; net/http would refuse the request line as too large
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		got, err := client.Credentials(ctx, server)
		key, keyErr := hostkey.Key(server)
		switch {
		case keyErr != nil:
			want := "invalid server address " + strconv.Quote(hostkey.Printable(server))
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("server %q: answer %+v, %v; want a bad request starting %s", server, got, err, want)
			}
		case key == fuzzEndpoint:
			if err != nil || got.Registry != "local" || got.Username != "user-local" || got.Secret != fuzzPassword {
				t.Fatalf("server %q (key %q): answer %+v, %v; want the Basic registry's credentials", server, key, got, err)
			}
		default:
			if !errors.Is(err, localapi.ErrNotFound) {
				t.Fatalf("server %q (key %q): answer %+v, %v; want not_found", server, key, got, err)
			}
		}
		if err != nil && strings.Contains(err.Error(), fuzzPassword) && !strings.Contains(server, fuzzPassword) {
			t.Fatalf("server %q: the error %q holds the password", server, err)
		}
		if alive, err := client.Credentials(ctx, fuzzEndpoint); err != nil || alive.Secret != fuzzPassword {
			t.Fatalf("after server %q the daemon no longer answers: %+v, %v", server, alive, err)
		}
		if leaked.Swap(false) && !strings.Contains(server, fuzzPassword) {
			t.Fatalf("the daemon logged the password (after server %q)", server)
		}
	})
}

// startFuzzDaemon runs one daemon for the whole fuzz run (one per fuzzing
// worker) on a Basic and an unprotected ECR registry. leaked turns true
// when a log line holds fuzzPassword.
func startFuzzDaemon(f *testing.F) (client *localapi.Client, leaked *atomic.Bool) {
	f.Helper()
	dir := f.TempDir()
	cfg, sock := filepath.Join(dir, "config.yaml"), filepath.Join(dir, "ocicred.sock")
	body := "registries:\n" + basicConfig("local", "http://"+fuzzEndpoint, fuzzPassword) +
		"  - {name: pub, type: ecr, endpoint: public.ecr.aws, protected: false}\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		f.Fatal(err)
	}
	leaked = new(atomic.Bool)
	ready := make(chan struct{})
	var once atomic.Bool
	d := New(Options{ConfigPath: cfg, Socket: sock,
		Logger: slog.New(slog.NewTextHandler(secretWatch{leaked}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Notify: func(s string) {
			if s == "READY=1" && once.CompareAndSwap(false, true) {
				close(ready)
			}
		}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	f.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			f.Errorf("Run returned %v", err)
		}
	})
	select {
	case <-ready:
	case err := <-done:
		f.Fatalf("daemon stopped at start: %v", err)
	case <-time.After(10 * time.Second):
		f.Fatal("daemon not ready after 10s")
	}
	return localapi.NewClient(sock), leaked
}

// secretWatch is a log sink that keeps nothing but whether a line held
// fuzzPassword.
type secretWatch struct{ leaked *atomic.Bool }

func (w secretWatch) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(fuzzPassword)) {
		w.leaked.Store(true)
	}
	return len(p), nil
}
