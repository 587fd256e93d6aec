// Package kubeletplugin speaks the kubelet's credential-provider exec
// plugin protocol (credentialprovider.kubelet.k8s.io/v1): it decodes a
// CredentialProviderRequest and writes a CredentialProviderResponse that
// the kubelet's strict decoder accepts. The types are written out here so
// that ocicred does not link Kubernetes' API machinery; a test decodes the
// answers with the official types.
//
// Read kubeletplugin.go first. providerconfig.go is the other side of the
// plugin: ocicred's entry in the kubelet's CredentialProviderConfig and
// the file's editing (`ocicred setup kubelet`).
package kubeletplugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/creds"
)

// Protocol names.
const (
	APIVersionV1 = "credentialprovider.kubelet.k8s.io/v1"
	KindRequest  = "CredentialProviderRequest"
	KindResponse = "CredentialProviderResponse"
)

// Cache durations of answers.
const (
	// MaxCacheDuration caps how long the kubelet keeps an ECR answer.
	MaxCacheDuration = 6 * time.Hour
	// StaticCacheDuration is how long it keeps Basic credentials: a config
	// edit reaches the kubelet within it.
	StaticCacheDuration = 10 * time.Minute
)

// Request is a CredentialProviderRequest. Fields newer kubelets send
// (serviceAccountToken, serviceAccountAnnotations) are accepted.
type Request struct {
	Kind                      string            `json:"kind"`
	APIVersion                string            `json:"apiVersion"`
	Image                     string            `json:"image"`
	ServiceAccountToken       string            `json:"serviceAccountToken,omitempty"`
	ServiceAccountAnnotations map[string]string `json:"serviceAccountAnnotations,omitempty"`
}

// Response is a CredentialProviderResponse.
type Response struct {
	Kind          string                `json:"kind"`
	APIVersion    string                `json:"apiVersion"`
	CacheKeyType  string                `json:"cacheKeyType"`
	CacheDuration string                `json:"cacheDuration,omitempty"`
	Auth          map[string]AuthConfig `json:"auth"`
}

// AuthConfig is one registry's credentials.
type AuthConfig struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Answer is what Resolve finds for a registry host.
type Answer struct {
	Username, Password string
	ExpiresAt          time.Time // zero for static credentials
}

// Resolve finds the credentials of a host: creds.ErrNotFound when it is
// not managed.
type Resolve func(ctx context.Context, host string) (Answer, error)

// maxRequest bounds what the kubelet may send.
const maxRequest = 1 << 20

// ReadRequest decodes a request from r.
func ReadRequest(r io.Reader) (Request, error) {
	var req Request
	data, err := io.ReadAll(io.LimitReader(r, maxRequest+1))
	if err != nil {
		return req, fmt.Errorf("read the request: %w", err)
	}
	if len(data) > maxRequest {
		return req, errors.New("request larger than 1 MiB")
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return req, fmt.Errorf("the request is not JSON: %w", err)
	}
	switch {
	case req.Kind != KindRequest:
		return req, fmt.Errorf("kind %q: want %s", req.Kind, KindRequest)
	case req.APIVersion != APIVersionV1:
		return req, fmt.Errorf("apiVersion %q: want %s (set it in the CredentialProviderConfig)", req.APIVersion, APIVersionV1)
	case req.Image == "":
		return req, errors.New("the request names no image")
	}
	return req, nil
}

// Respond answers req: the host's credentials, or an empty auth for an
// image ocicred does not manage (not an error: the kubelet pulls without).
func Respond(ctx context.Context, req Request, resolve Resolve, now time.Time) (Response, error) {
	resp := Response{Kind: KindResponse, APIVersion: APIVersionV1, CacheKeyType: "Registry", Auth: map[string]AuthConfig{}}
	host, err := ImageHost(req.Image)
	if err != nil {
		return resp, err
	}
	got, err := resolve(ctx, host)
	switch {
	case errors.Is(err, creds.ErrNotFound):
		return resp, nil
	case err != nil:
		return resp, err
	}
	resp.Auth[host] = AuthConfig{Username: got.Username, Password: got.Password}
	resp.CacheDuration = cacheDuration(got.ExpiresAt, now).String()
	return resp, nil
}

// cacheDuration is half the token's remaining life, at most
// MaxCacheDuration; StaticCacheDuration for credentials that do not expire.
func cacheDuration(expires, now time.Time) time.Duration {
	if expires.IsZero() {
		return StaticCacheDuration
	}
	d := min(expires.Sub(now)/2, MaxCacheDuration)
	return max(d.Truncate(time.Second), 0)
}

// ImageHost is the registry host of an image reference, as a config host
// key: the first path component when it looks like a host (has a dot or a
// port, or is localhost), else Docker Hub.
func ImageHost(image string) (string, error) {
	first, _, hasPath := strings.Cut(image, "/")
	if !hasPath || !(strings.ContainsAny(first, ".:") || first == "localhost") {
		return "docker.io", nil
	}
	return config.HostKey(first)
}
