package helper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/access"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/localapi"
)

// Options configure a Helper.
type Options struct {
	ConfigPath string // the config file; list and store read it when the daemon is down
	Socket     string // the daemon's socket
	// Fallback answers get without the daemon. The default runs
	// `ocicred get --no-daemon`.
	Fallback func(ctx context.Context, server string) (user, secret string, err error)
	// Debug, when set, receives a line about each answer (OCICRED_DEBUG=1).
	Debug io.Writer
}

// Helper implements credentials.Helper.
type Helper struct {
	opts   Options
	client *localapi.Client
}

var _ credentials.Helper = (*Helper)(nil)

// New returns a helper.
func New(opts Options) *Helper {
	if opts.Debug == nil {
		opts.Debug = io.Discard
	}
	if opts.Fallback == nil {
		opts.Fallback = (&execFallback{configPath: opts.ConfigPath, socket: opts.Socket, stderr: opts.Debug}).get
	}
	client := localapi.NewClient(opts.Socket)
	client.Name = localapi.ClientHelper
	return &Helper{opts: opts, client: client}
}

// Get answers the credentials of server: from the daemon, or, when it is
// not reachable, from the fallback.
func (h *Helper) Get(server string) (string, string, error) {
	if _, err := config.HostKey(server); err != nil {
		return "", "", err
	}
	ctx := context.Background()
	got, err := h.client.Credentials(ctx, server)
	switch {
	case err == nil:
		fmt.Fprintf(h.opts.Debug, "ocicred: %s: registry %s, from the daemon\n", server, got.Registry)
		return got.Username, got.Secret, nil
	case errors.Is(err, creds.ErrNotFound):
		fmt.Fprintf(h.opts.Debug, "ocicred: %s: not managed, unprotected, or not allowed\n", server)
		return "", "", credentials.NewErrCredentialsNotFound()
	case errors.Is(err, localapi.ErrUnreachable):
		fmt.Fprintf(h.opts.Debug, "ocicred: %v; answering without it\n", err)
		return h.opts.Fallback(ctx, server)
	}
	return "", "", err
}

// List maps managed endpoints to user names. It makes no network call:
// the daemon answers from memory, or the config file is read.
func (h *Helper) List() (map[string]string, error) {
	out, err := h.client.List(context.Background())
	if !errors.Is(err, localapi.ErrUnreachable) {
		return out, err
	}
	cfg, err := config.Read(h.opts.ConfigPath)
	if err != nil {
		return nil, err
	}
	return creds.List(cfg, access.Self()), nil
}

// Add refuses: the config file is the source of truth.
func (h *Helper) Add(c *credentials.Credentials) error {
	if c == nil {
		return errors.New("no credentials given")
	}
	if cfg, err := config.Read(h.opts.ConfigPath); err == nil {
		if reg, ok := cfg.Lookup(c.ServerURL); ok {
			return fmt.Errorf("ocicred manages %s as registry %q: its credentials come from %s, which is the source of truth; edit that file instead of logging in",
				c.ServerURL, reg.Name, h.opts.ConfigPath)
		}
	}
	return fmt.Errorf("ocicred does not store credentials: add %s to %s, or remove ocicred from credsStore for it",
		c.ServerURL, h.opts.ConfigPath)
}

// Delete succeeds and changes nothing: logging out of a managed registry
// must not break the next pull.
func (h *Helper) Delete(string) error { return nil }

// DefaultConfigPath is --config's default: OCICRED_CONFIG or the spec's.
func DefaultConfigPath() string {
	if p := os.Getenv("OCICRED_CONFIG"); p != "" {
		return p
	}
	return config.DefaultPath
}

// DefaultSocket is OCICRED_SOCKET, else the default socket when it exists,
// else the socket the config file names. The file is read only in that last
// case, to keep the common path of every pull free of parsing.
func DefaultSocket(configPath string) string {
	if s := os.Getenv("OCICRED_SOCKET"); s != "" {
		return s
	}
	if _, err := os.Stat(config.DefaultSocket); err == nil {
		return config.DefaultSocket
	}
	if cfg, err := config.Read(configPath); err == nil && cfg.Socket != "" {
		return cfg.Socket
	}
	return config.DefaultSocket
}
