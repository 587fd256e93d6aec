// Package localapi is the daemon's HTTP API on its unix socket: the paths,
// the JSON shapes, and the client that the helper and the CLI use. It links
// neither the daemon nor the AWS SDK, so the helper stays small.
package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/ocicred/ocicred/internal/creds"
)

// Paths of the API.
const (
	PathCredentials = "/v1/credentials" // ?server=ADDR
	PathList        = "/v1/list"
	PathStatus      = "/v1/status"
)

// Error codes in an ErrorBody.
const (
	CodeNotFound    = "not_found"
	CodeUnavailable = "unavailable"
	CodeBadRequest  = "bad_request"
	CodeForbidden   = "forbidden"
)

// CredentialsBody answers PathCredentials.
type CredentialsBody struct {
	Registry  string    `json:"registry"`
	Username  string    `json:"username"`
	Secret    string    `json:"secret"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

// ErrorBody is every non-2xx answer.
type ErrorBody struct {
	Code     string `json:"code"`
	Registry string `json:"registry,omitempty"`
	Error    string `json:"error"`
}

// Status answers PathStatus; it is what `ocicred status --json` prints.
type Status struct {
	Config      string           `json:"config"`
	ConfigError string           `json:"configError"`
	Registries  []RegistryStatus `json:"registries"`
}

// RegistryStatus is one registry in Status. Times are RFC 3339, or empty
// where they do not apply.
type RegistryStatus struct {
	Name          string `json:"name"`
	Type          string `json:"type"`
	Endpoint      string `json:"endpoint"`
	State         string `json:"state"`
	ExpiresAt     string `json:"expiresAt"`
	RefreshedAt   string `json:"refreshedAt"`
	NextRefreshAt string `json:"nextRefreshAt"`
	LastError     string `json:"lastError"`
}

// Registry states.
const (
	StateReady     = "ready"
	StatePending   = "pending"
	StateError     = "error"
	StateAnonymous = "anonymous"
	StateStatic    = "static"
)

// ClientHeader names the program asking, for the daemon's metrics: one of
// the Client* values.
const ClientHeader = "X-Ocicred-Client"

// Clients that name themselves in ClientHeader.
const (
	ClientHelper  = "helper"
	ClientKubelet = "kubelet"
	ClientCLI     = "cli"
)

// ErrUnreachable wraps every failure to reach the daemon: no socket, no
// listener, no permission. Callers fall back to answering without it.
var ErrUnreachable = errors.New("daemon not reachable")

// Client talks to the daemon.
type Client struct {
	http *http.Client
	// Name is sent in ClientHeader.
	Name string
}

// Timeouts of a Client: connecting is quick or the daemon is not there; an
// answer may wait up to 10 s for a registry's first token.
const (
	DialTimeout    = time.Second
	RequestTimeout = 15 * time.Second
)

// NewClient returns a client for the daemon listening on socket.
func NewClient(socket string) *Client {
	d := &net.Dialer{Timeout: DialTimeout}
	return &Client{http: &http.Client{
		Timeout: RequestTimeout,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return d.DialContext(ctx, "unix", socket)
			},
			DisableKeepAlives: true,
		},
	}}
}

// Credentials asks for the credentials of a server address. The error is
// creds.ErrNotFound, ErrUnreachable (wrapped), or an error whose text is
// the daemon's reason.
func (c *Client) Credentials(ctx context.Context, server string) (CredentialsBody, error) {
	var body CredentialsBody
	err := c.get(ctx, PathCredentials+"?server="+url.QueryEscape(server), &body)
	return body, err
}

// List asks for the endpoints the caller may have, mapped to user names.
func (c *Client) List(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	err := c.get(ctx, PathList, &out)
	return out, err
}

// Status asks for the daemon's status.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var s Status
	if err := c.get(ctx, PathStatus, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

func (c *Client) get(ctx context.Context, path string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://ocicred"+path, nil)
	if err != nil {
		return err
	}
	if c.Name != "" {
		req.Header.Set(ClientHeader, c.Name)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var opErr *net.OpError
		if errors.As(err, &opErr) && opErr.Op == "dial" {
			return fmt.Errorf("%w: %v", ErrUnreachable, opErr.Err)
		}
		return fmt.Errorf("ask the daemon: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("read the daemon's answer: %w", err)
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(data, into); err != nil {
			return fmt.Errorf("decode the daemon's answer: %w", err)
		}
		return nil
	}
	var eb ErrorBody
	if err := json.Unmarshal(data, &eb); err != nil || eb.Error == "" {
		return fmt.Errorf("daemon answered %s", resp.Status)
	}
	if eb.Code == CodeNotFound {
		return creds.ErrNotFound
	}
	return errors.New(eb.Error)
}
