package localreg

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

// StartInProcess serves go-containerregistry's registry (blobs in memory) on a
// free 127.0.0.1 port behind BasicGate. It needs nothing but Go.
func StartInProcess(user, password string) (*Registry, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the in-process registry: %w", err)
	}
	handler := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := &http.Server{
		Handler:           BasicGate(user, password, handler),
		ReadHeaderTimeout: 10 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	addr := ln.Addr().String()
	return &Registry{
		Host: addr, URL: "http://" + addr, Kind: "in-process (go-containerregistry)",
		close:  func() error { return shutdown(srv, served) },
		output: func() string { return "" },
	}, nil
}

func shutdown(srv *http.Server, served <-chan error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		// A connection the client dialled but never sent a request on stays
		// "new", and Shutdown waits 5 s before it counts as idle: the
		// timeout can pass with nothing left to drain. Close it instead.
		if cerr := srv.Close(); cerr != nil {
			return fmt.Errorf("stop the in-process registry: %w (then: %w)", err, cerr)
		}
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("in-process registry: %w", err)
	}
	return nil
}

// BasicGate lets a request through to next only with exactly these Basic
// credentials; any other gets what distribution's htpasswd auth answers: 401
// with a Basic challenge and an UNAUTHORIZED error body.
func BasicGate(user, password string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if ok && equal(u, user) && equal(p, password) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="ocicred-localreg"`)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}`+"\n")
	})
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
