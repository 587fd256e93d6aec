package localapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serve runs handler with net/http on a unix socket, as the daemon does.
func serve(t *testing.T, handler http.HandlerFunc) string {
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
	var gotHeader, gotServer string
	big := make([]RegistryStatus, 2000) // ~300 KB: more than net/http buffers before it streams
	for i := range big {
		big[i] = RegistryStatus{Name: strings.Repeat("r", 20), State: StateReady}
	}
	sock := serve(t, func(w http.ResponseWriter, r *http.Request) {
		gotHeader = r.Header.Get(ClientHeader)
		switch r.URL.Path {
		case PathCredentials:
			gotServer = r.URL.Query().Get("server")
			switch gotServer {
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
	c := NewClient(sock)
	c.Name = ClientHelper
	ctx := context.Background()
	got, err := c.Credentials(ctx, "ok.example/x?y")
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
	if err != nil || len(st.Registries) != len(big) {
		t.Errorf("a large status: %d registries, %v", len(st.Registries), err)
	}
	if _, err := c.List(ctx); err == nil || !strings.Contains(err.Error(), "HTTP 418") {
		t.Errorf("a non-JSON error answer: %v", err)
	}
}

func TestClientUnreachable(t *testing.T) {
	_, err := NewClient(filepath.Join(t.TempDir(), "none.sock")).Status(context.Background())
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("no socket: %v", err)
	}
}

// A daemon that accepts but never answers is cut by the context: the
// request is cancelled once the daemon holds it, and the error says it
// was the context (the client's own RequestTimeout would say a deadline).
func TestClientHonoursContext(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "hang.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	holding, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			_, _ = bufio.NewReader(c).ReadString('\n') // the request line: the client waits for the answer now
			close(holding)
			<-release
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-holding; cancel() }()
	_, err = NewClient(sock).Status(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("hung daemon, request cancelled: %v, want an error wrapping context.Canceled", err)
	}
}

func TestReadResponseRejectsGarbage(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "g.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		// Read the whole request first: closing before the client has
		// written makes its write fail with EPIPE instead of reading the
		// garbage, which is not what this test is about.
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		_, _ = c.Write([]byte("SSH-2.0-OpenSSH\r\n"))
	}()
	if _, err := NewClient(sock).Status(context.Background()); err == nil || !strings.Contains(err.Error(), "not an HTTP answer") {
		t.Errorf("garbage: %v", err)
	}
}

// silentDaemon listens on a socket, accepts, and never answers (a daemon
// stopped with SIGSTOP, wedged, or busy starting); with closeAtOnce it
// closes each connection without a word instead.
func silentDaemon(t *testing.T, closeAtOnce bool) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "silent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if closeAtOnce {
				c.Close()
				continue
			}
			held = append(held, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range held {
			c.Close()
		}
	})
	return sock
}

// A daemon that accepts but does not answer is unreachable once the
// client's deadline passes, so callers answer without it.
func TestSilentDaemonIsUnreachable(t *testing.T) {
	for _, closeAtOnce := range []bool{false, true} {
		c := NewClient(silentDaemon(t, closeAtOnce))
		c.Deadline = 50 * time.Millisecond
		_, err := c.Credentials(context.Background(), "a.example")
		if !errors.Is(err, ErrUnreachable) {
			t.Errorf("closeAtOnce=%v: Credentials = %v, want ErrUnreachable", closeAtOnce, err)
		}
	}
}
