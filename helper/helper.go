package helper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/ocicred/ocicred/internal/defaults"
	"github.com/ocicred/ocicred/internal/hostkey"
	"github.com/ocicred/ocicred/internal/localapi"
)

// DefaultConfigPath is the config file when OCICRED_CONFIG is not set (the
// same as config.DefaultPath; the helper does not link the config package).
const DefaultConfigPath = defaults.ConfigPath

// Options configure a Helper.
type Options struct {
	ConfigPath string // the config file, for the fallback and messages
	Socket     string // the daemon's socket
	// Fallback answers get without the daemon, and FallbackList answers
	// list. The defaults run `ocicred get` and `ocicred list`, which read
	// the config (and try the socket it names). silent says that the daemon
	// on Socket accepted the connection but gave no answer: no use asking
	// it again.
	Fallback     func(ctx context.Context, server string, silent bool) (user, secret string, err error)
	FallbackList func(ctx context.Context, silent bool) (map[string]string, error)
	// Debug, when set, receives a line about each answer (OCICRED_DEBUG=1).
	Debug io.Writer
	// DaemonTimeout bounds the wait for the daemon's answer; then the
	// answer is worked out without it. Default localapi.DaemonDeadline.
	DaemonTimeout time.Duration
	// Warn receives, even when Debug is not set, what the user must fix:
	// the fallback's note that tokens cannot be cached (so every pull
	// waits for AWS). main passes os.Stderr; nil discards.
	Warn io.Writer
	// CacheDir is the token cache folder whose index of daemon-less
	// answers get tries, when the daemon is down, before Fallback; empty:
	// cachedir.Dir(), the folder `ocicred get` uses.
	CacheDir string
	// Now and LookupEnv stand for time.Now and os.LookupEnv (the token's
	// remaining life, the variables a recorded answer read); nil: those.
	Now       func() time.Time
	LookupEnv func(string) (string, bool)
}

// Helper implements credentials.Helper.
type Helper struct {
	opts   Options
	client *localapi.Client
}

var _ credentials.Helper = (*Helper)(nil)

// New returns a helper.
func New(opts Options) *Helper {
	fb := &execFallback{configPath: opts.ConfigPath, socket: opts.Socket, stderr: opts.Debug}
	if opts.Debug == nil {
		opts.Debug = io.Discard
		fb.stderr, fb.quiet = opts.Warn, true
	}
	if fb.stderr == nil {
		fb.stderr = io.Discard
	}
	if opts.Fallback == nil {
		opts.Fallback = fb.get
	}
	if opts.FallbackList == nil {
		opts.FallbackList = fb.list
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	if opts.DaemonTimeout <= 0 {
		opts.DaemonTimeout = localapi.DaemonDeadline
	}
	client := localapi.NewClient(opts.Socket)
	client.Name = localapi.ClientHelper
	client.Deadline = opts.DaemonTimeout
	return &Helper{opts: opts, client: client}
}

// Get answers the credentials of server: from the daemon, or, when it is
// not reachable, from the token cache's index (fromIndex) while the answer
// recorded there still holds, else from the fallback.
func (h *Helper) Get(server string) (string, string, error) {
	host, err := hostkey.Key(server)
	if err != nil {
		return "", "", err
	}
	ctx := context.Background()
	got, err := h.client.Credentials(ctx, server)
	switch {
	case err == nil:
		fmt.Fprintf(h.opts.Debug, "ocicred: %s: registry %s, from the daemon\n", server, got.Registry)
		return got.Username, got.Secret, nil
	case errors.Is(err, localapi.ErrNotFound):
		reason := "not managed, unprotected, or not allowed"
		var nf *localapi.NotFoundError
		if errors.As(err, &nf) {
			reason = nf.Reason
		}
		fmt.Fprintf(h.opts.Debug, "ocicred: %s: %s\n", server, reason)
		return "", "", credentials.NewErrCredentialsNotFound()
	case errors.Is(err, localapi.ErrUnreachable):
		fmt.Fprintf(h.opts.Debug, "ocicred: %v; answering without it\n", err)
		hit, ierr := h.fromIndex(host)
		if ierr == nil {
			fmt.Fprintf(h.opts.Debug, "ocicred: %s: registry %s, token from the cache through the index (ocicred get not run)\n", server, hit.Registry)
			return hit.User, hit.Password.Reveal(), nil
		}
		fmt.Fprintf(h.opts.Debug, "ocicred: %s: %v; running ocicred get\n", server, ierr)
		return h.opts.Fallback(ctx, server, errors.Is(err, localapi.ErrNoAnswer))
	}
	return "", "", err
}

// List maps managed endpoints to user names. It makes no network call:
// the daemon answers from memory, or `ocicred list` reads the config.
func (h *Helper) List() (map[string]string, error) {
	out, err := h.client.List(context.Background())
	if errors.Is(err, localapi.ErrUnreachable) {
		return h.opts.FallbackList(context.Background(), errors.Is(err, localapi.ErrNoAnswer))
	}
	return out, err
}

// Add refuses: the config file is the source of truth.
func (h *Helper) Add(c *credentials.Credentials) error {
	if c == nil {
		return errors.New("no credentials given")
	}
	return fmt.Errorf("ocicred does not store credentials: %s is the source of truth for the registries it manages; add or edit %s there instead of logging in",
		h.opts.ConfigPath, hostkey.Printable(c.ServerURL))
}

// Delete succeeds and changes nothing: logging out of a managed registry
// must not break the next pull.
func (h *Helper) Delete(string) error { return nil }

// ConfigPath is OCICRED_CONFIG or the default.
func ConfigPath() string {
	if p := os.Getenv(defaults.EnvConfig); p != "" {
		return p
	}
	return DefaultConfigPath
}

// Socket is OCICRED_SOCKET or the default. A daemon on another socket,
// named in the config file, is found by the fallback, which reads it.
func Socket() string {
	if s := os.Getenv(defaults.EnvSocket); s != "" {
		return s
	}
	return localapi.DefaultSocket
}
