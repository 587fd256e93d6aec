package localapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// contexts are the two kinds the client is asked with, and takes two ways
// to the daemon for: one that can never be cancelled (the credential
// helper's), and one that can (ocicred get, the kubelet plugin, status).
// Every client test runs with both.
var contexts = []struct {
	name     string
	ctx      func(t *testing.T) context.Context
	blocking bool // on Linux: the client reads with blocking system calls
}{
	{"background", func(*testing.T) context.Context { return context.Background() }, true},
	{"cancellable", func(t *testing.T) context.Context { return t.Context() }, false},
}

// serve runs handler with net/http on a unix socket, as the daemon does.
func serve(t testing.TB, handler http.HandlerFunc) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "api.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return sock
}

func TestClientAgainstNetHTTP(t *testing.T) {
	// What the handler saw. The race detector does not see the answer
	// travel through a blocking read in the kernel, so a lock orders it.
	var (
		mu                   sync.Mutex
		gotHeader, gotServer string
	)
	seen := func() (string, string) { mu.Lock(); defer mu.Unlock(); return gotHeader, gotServer }
	big := make([]RegistryStatus, 2000) // ~300 KB: more than net/http buffers before it streams
	for i := range big {
		big[i] = RegistryStatus{Name: strings.Repeat("r", 20), State: StateReady}
	}
	sock := serve(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gotHeader, gotServer = r.Header.Get(ClientHeader), r.URL.Query().Get("server")
		mu.Unlock()
		switch r.URL.Path {
		case PathCredentials:
			switch r.URL.Query().Get("server") {
			case "ok.example/x?y":
				_ = json.NewEncoder(w).Encode(CredentialsBody{Registry: "ok", Username: "u", Secret: "s"})
			case "unmanaged.example":
				w.WriteHeader(http.StatusNotFound)
				_ = json.NewEncoder(w).Encode(ErrorBody{Code: CodeNotFound, Error: NotFoundMessage})
			default:
				w.WriteHeader(http.StatusServiceUnavailable)
				_ = json.NewEncoder(w).Encode(ErrorBody{Code: CodeUnavailable, Registry: "prod", Error: "registry prod: AccessDenied"})
			}
		case PathStatus:
			_ = json.NewEncoder(w).Encode(Status{Config: "c", Registries: big})
		default:
			http.Error(w, "no", http.StatusTeapot)
		}
	})
	for _, cc := range contexts {
		t.Run(cc.name, func(t *testing.T) {
			c := NewClient(sock)
			c.Name = ClientHelper
			ctx := cc.ctx(t)
			got, err := c.Credentials(ctx, "ok.example/x?y")
			gotHeader, gotServer := seen()
			if err != nil || got.Username != "u" || got.Secret != "s" || gotServer != "ok.example/x?y" || gotHeader != ClientHelper {
				t.Errorf("Credentials = %+v, %v (server %q, header %q)", got, err, gotServer, gotHeader)
			}
			if _, err := c.Credentials(ctx, "unmanaged.example"); !errors.Is(err, ErrNotFound) {
				t.Errorf("not found: %v", err)
			}
			if _, err := c.Credentials(ctx, "prod.example"); err == nil || err.Error() != "registry prod: AccessDenied" {
				t.Errorf("unavailable: %v", err)
			}
			st, err := c.Status(ctx)
			if err != nil {
				t.Errorf("a large status: %v", err)
			} else if len(st.Registries) != len(big) {
				t.Errorf("a large status: %d registries, want %d", len(st.Registries), len(big))
			}
			if _, err := c.List(ctx); err == nil || !strings.Contains(err.Error(), "HTTP 418") {
				t.Errorf("a non-JSON error answer: %v", err)
			}
		})
	}
}

// A daemon waiting on a registry's first token says 102 Processing at
// once and answers later: the client then waits longer than its Deadline.
func TestClientWaitsAfterProcessing(t *testing.T) {
	const deadline = 50 * time.Millisecond
	sock := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusProcessing)
		time.Sleep(4 * deadline)
		_ = json.NewEncoder(w).Encode(CredentialsBody{Registry: "slow", Username: "u", Secret: "s"})
	})
	for _, cc := range contexts {
		t.Run(cc.name, func(t *testing.T) {
			c := NewClient(sock)
			c.Deadline = deadline
			got, err := c.Credentials(cc.ctx(t), "slow.example")
			if err != nil || got.Registry != "slow" {
				t.Errorf("Credentials = %+v, %v; want the answer after 102 Processing", got, err)
			}
		})
	}
}

// fakeDaemon listens on a unix socket and runs answer on each connection
// it accepts, once it has read the request's head (a daemon that closes
// before the client has written makes the client's write fail instead).
// It closes what is left open when the test ends.
func fakeDaemon(t *testing.T, answer func(c net.Conn)) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "fake.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if line == "\r\n" {
						break
					}
				}
				answer(c)
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return sock
}

// holdSilent answers nothing and holds the connection until the client
// leaves: a daemon stopped with SIGSTOP, wedged, or busy starting.
func holdSilent(c net.Conn) { _, _ = c.Read(make([]byte, 1)) }

// dribble sends head at once and then body a byte at a time, 20 ms
// apart: a slow daemon that sends something before any one read's wait
// ends, but not the whole answer within the client's Deadline (100 ms).
func dribble(head, body string) func(c net.Conn) {
	return func(c net.Conn) {
		if _, err := c.Write([]byte(head)); err != nil {
			return
		}
		for _, b := range []byte(body) {
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// slowBody is an answer whose body takes 0.7 s to dribble.
const slowBody = `{"registry":"slow","username":"u"}`

// refusedSocket leaves a socket file that nothing listens on.
func refusedSocket(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "refused.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	return sock
}

// fullBacklog listens with a backlog of one connection that nobody
// accepts, and fills it: a daemon so busy that its queue is full.
func fullBacklog(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "full.sock")
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: sock}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	held, err := net.Dial("unix", sock) // a backlog of 0 holds one
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { held.Close() })
	return sock
}

// Every way of not getting an answer, with either kind of context, is the
// same error with the same text; the text names the cause once (no
// "dial unix PATH:" before the system call's words).
func TestClientWithoutAnswer(t *testing.T) {
	tests := []struct {
		name   string
		daemon func(t *testing.T) string // the socket
		is     error
		text   string // the error's text, whole
	}{
		{"no socket", func(t *testing.T) string { return filepath.Join(t.TempDir(), "none.sock") },
			ErrUnreachable, "daemon not reachable: connect: no such file or directory"},
		{"not a socket", func(t *testing.T) string {
			f := filepath.Join(t.TempDir(), "file")
			if err := os.WriteFile(f, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return f
		}, ErrUnreachable, "daemon not reachable: connect: connection refused"},
		{"nobody listens", refusedSocket,
			ErrUnreachable, "daemon not reachable: connect: connection refused"},
		// The connect fails at once, as net's does, rather than waiting for
		// room (see the elapsed check below).
		{"backlog full", fullBacklog,
			ErrUnreachable, "daemon not reachable: connect: resource temporarily unavailable"},
		{"silent", func(t *testing.T) string { return fakeDaemon(t, holdSilent) },
			ErrNoAnswer, "daemon not reachable: it accepted the connection but gave no answer within 100ms"},
		// The deadline holds for the whole answer, not for each read,
		// wherever the answer stands when it passes.
		{"dribbling the status line", func(t *testing.T) string {
			return fakeDaemon(t, dribble("", "HTTP/1.0 200 OK\r\n\r\n"+slowBody))
		}, ErrNoAnswer, "daemon not reachable: it accepted the connection but gave no answer within 100ms"},
		{"dribbling the headers", func(t *testing.T) string {
			return fakeDaemon(t, dribble("HTTP/1.0 200 OK\r\n", "Content-Type: application/json\r\n\r\n"+slowBody))
		}, ErrNoAnswer, "daemon not reachable: it accepted the connection but gave no answer within 100ms"},
		{"dribbling the body", func(t *testing.T) string {
			return fakeDaemon(t, dribble("HTTP/1.0 200 OK\r\nContent-Length: "+strconv.Itoa(len(slowBody))+"\r\n\r\n", slowBody))
		}, ErrNoAnswer, "daemon not reachable: it accepted the connection but gave no answer within 100ms"},
		{"closes at once", func(t *testing.T) string { return fakeDaemon(t, func(net.Conn) {}) },
			ErrNoAnswer, "daemon not reachable: it accepted the connection but gave no answer: it closed the connection"},
		{"closes in the middle of the status line", func(t *testing.T) string {
			return fakeDaemon(t, func(c net.Conn) { _, _ = c.Write([]byte("HTTP/1.0 2")) })
		}, ErrNoAnswer, "daemon not reachable: it accepted the connection but gave no answer: it closed the connection"},
		{"closes in the middle of the headers", func(t *testing.T) string {
			return fakeDaemon(t, func(c net.Conn) { _, _ = c.Write([]byte("HTTP/1.0 200 OK\r\nContent-Ty")) })
		}, ErrNoAnswer, "daemon not reachable: it accepted the connection but gave no answer: it closed the connection"},
		// Half an answer is none, even when the half is valid JSON.
		{"closes in the middle of the body", func(t *testing.T) string {
			return fakeDaemon(t, func(c net.Conn) {
				_, _ = c.Write([]byte("HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\n{}"))
			})
		}, ErrNoAnswer, "daemon not reachable: it accepted the connection but gave no answer: it closed the connection"},
		{"garbage", func(t *testing.T) string {
			return fakeDaemon(t, func(c net.Conn) { _, _ = c.Write([]byte("SSH-2.0-OpenSSH\r\n")) })
		}, nil, `read the daemon's answer: not an HTTP answer: "SSH-2.0-OpenSSH"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sock := tt.daemon(t)
			for _, cc := range contexts {
				c := NewClient(sock)
				c.Deadline = 100 * time.Millisecond
				c.DialTimeout = 10 * time.Second
				start := time.Now()
				_, err := c.Credentials(cc.ctx(t), "a.example")
				if err == nil || err.Error() != tt.text || tt.is != nil && !errors.Is(err, tt.is) {
					t.Errorf("%s context: Credentials = %v; want %q (errors.Is %v)", cc.name, err, tt.text, tt.is)
				}
				if took := time.Since(start); took > c.DialTimeout/2 {
					t.Errorf("%s context: took %s: it waited on the connect", cc.name, took)
				}
				if errors.Is(err, ErrNoAnswer) && !errors.Is(err, ErrUnreachable) {
					t.Errorf("%s context: %v is ErrNoAnswer but not ErrUnreachable", cc.name, err)
				}
			}
		})
	}
}

// An answer over 4 MiB is refused, with either kind of context. Its own
// test: the client's deadline must let 4 MiB through under the race
// detector on a loaded machine, where the others' is 100 ms.
func TestClientRefusesAnswerOver4MiB(t *testing.T) {
	sock := fakeDaemon(t, func(c net.Conn) {
		_, _ = c.Write([]byte("HTTP/1.0 200 OK\r\n\r\n"))
		_, _ = c.Write(make([]byte, maxBody+1))
	})
	for _, cc := range contexts {
		c := NewClient(sock)
		c.Deadline = time.Minute
		_, err := c.Credentials(cc.ctx(t), "a.example")
		if want := "read the daemon's answer: answer larger than 4 MiB"; err == nil || err.Error() != want {
			t.Errorf("%s context: Credentials = %v; want %q", cc.name, err, want)
		}
	}
}

// A daemon that accepts but never answers is cut by the context: the
// request is cancelled once the daemon holds it, and the error says it
// was the context (the client's own RequestTimeout would say a deadline).
func TestClientHonoursContext(t *testing.T) {
	holding, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	sock := fakeDaemon(t, func(net.Conn) { close(holding); <-release })
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-holding; cancel() }()
	_, err := NewClient(sock).Status(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("hung daemon, request cancelled: %v, want an error wrapping context.Canceled", err)
	}
}

// BenchmarkClient asks a net/http daemon for credentials with each kind
// of context, one request at a time. It measures a request in a process
// that is already warm; test/bench BenchmarkGet measures whole helper
// processes, where the netpoller's start-up adds to the net way.
func BenchmarkClient(b *testing.B) {
	sock := serve(b, func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(CredentialsBody{Registry: "r", Username: "u", Secret: "s"})
	})
	for _, cc := range contexts {
		b.Run(cc.name, func(b *testing.B) {
			c := NewClient(sock)
			ctx := context.Background()
			if !cc.blocking {
				ctx = b.Context()
			}
			for b.Loop() {
				if _, err := c.Credentials(ctx, "a.example"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
