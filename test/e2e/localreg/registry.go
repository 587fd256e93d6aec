package localreg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
)

// Registry is a running local registry.
type Registry struct {
	// Host is host:port, the form docker config keys and image references use.
	Host string
	// URL is the base URL, http://Host.
	URL string
	// Kind says which implementation serves it.
	Kind string

	close  func() error
	output func() string
}

// Close stops the registry.
func (r *Registry) Close() error { return r.close() }

// Output is what the registry logged so far (empty for the in-process one).
func (r *Registry) Output() string { return r.output() }

// Tag is the reference repo:tag on this registry, spoken to over plain HTTP.
func (r *Registry) Tag(repo, tag string) (name.Tag, error) {
	t, err := name.NewTag(r.Host+"/"+repo+":"+tag, name.Insecure)
	if err != nil {
		return name.Tag{}, fmt.Errorf("reference %s/%s:%s: %w", r.Host, repo, tag, err)
	}
	return t, nil
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment ago.
func freeAddr(ipv6 bool) (string, error) {
	host := "127.0.0.1:0"
	if ipv6 {
		host = "[::1]:0"
	}
	ln, err := net.Listen("tcp", host)
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	return addr, nil
}

// errNotReady is returned by probeV2 while the registry does not answer yet.
var errNotReady = errors.New("registry not ready")

// probeV2 checks that GET /v2/ without credentials answers 401 (auth) or
// 200 (no auth): the registry is up and guarded as it should be.
func probeV2(ctx context.Context, baseURL string, auth bool) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/v2/", nil)
	if err != nil {
		return fmt.Errorf("probe %s: %w", baseURL, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", errNotReady, err)
	}
	_ = resp.Body.Close()
	switch {
	case auth && resp.StatusCode != http.StatusUnauthorized:
		return fmt.Errorf("probe %s/v2/: got %s, want 401 (is auth configured?)", baseURL, resp.Status)
	case !auth && resp.StatusCode != http.StatusOK:
		return fmt.Errorf("probe %s/v2/: got %s, want 200 (no auth)", baseURL, resp.Status)
	}
	return nil
}
