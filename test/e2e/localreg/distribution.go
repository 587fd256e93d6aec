package localreg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ocicred/ocicred/test/e2e/subproc"
)

// Distribution says how to run the distribution registry.
type Distribution struct {
	// Dir holds the registry's config, htpasswd file and storage. Required.
	Dir string
	// User and Password are the only credentials the registry accepts.
	User, Password string
	// IPv6 makes the registry listen on [::1] instead of 127.0.0.1.
	IPv6 bool
	// NoAuth runs the registry without authentication (User and Password
	// are ignored): anyone may push and pull. It is the upstream that an
	// auth gate, such as awsfake's registry front, sits in front of.
	NoAuth bool
	// RegistryBin and HtpasswdBin default to `docker-registry` and `htpasswd`
	// on PATH.
	RegistryBin, HtpasswdBin string
	// StartTimeout bounds the wait for /v2/ to answer; default 15 s.
	StartTimeout time.Duration
}

// StartDistribution runs the distribution registry on a free 127.0.0.1 (or
// [::1]) port
// with htpasswd (bcrypt) authentication, and returns once /v2/ answers 401
// (200 with NoAuth).
func StartDistribution(ctx context.Context, d Distribution) (*Registry, error) {
	d = d.withDefaults()
	htpasswd := ""
	if !d.NoAuth {
		var err error
		if htpasswd, err = d.writeHtpasswd(ctx); err != nil {
			return nil, err
		}
	}
	var lastErr error
	for range 3 { // a port found free may be taken before the registry binds it
		reg, err := d.start(ctx, htpasswd)
		if err == nil {
			return reg, nil
		}
		lastErr = err
		if !errors.Is(err, errAddrInUse) {
			break
		}
	}
	return nil, lastErr
}

func (d Distribution) withDefaults() Distribution {
	if d.RegistryBin == "" {
		d.RegistryBin = "docker-registry"
	}
	if d.HtpasswdBin == "" {
		d.HtpasswdBin = "htpasswd"
	}
	if d.StartTimeout == 0 {
		d.StartTimeout = 15 * time.Second
	}
	return d
}

// writeHtpasswd writes a bcrypt htpasswd file; the password goes through
// stdin, never the command line.
func (d Distribution) writeHtpasswd(ctx context.Context) (string, error) {
	cmd := exec.CommandContext(ctx, d.HtpasswdBin, "-niB", d.User)
	cmd.Stdin = strings.NewReader(d.Password + "\n")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("htpasswd -niB %s: %w", d.User, err)
	}
	path := filepath.Join(d.Dir, "htpasswd")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		return "", fmt.Errorf("write htpasswd: %w", err)
	}
	return path, nil
}

var errAddrInUse = errors.New("address already in use")

func (d Distribution) start(ctx context.Context, htpasswd string) (*Registry, error) {
	addr, err := freeAddr(d.IPv6)
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(d.Dir, "config.yml")
	if err := os.WriteFile(cfg, []byte(distributionConfig(addr, d.Dir, htpasswd)), 0o600); err != nil {
		return nil, fmt.Errorf("write registry config: %w", err)
	}
	proc, err := subproc.Start(exec.Command(d.RegistryBin, "serve", cfg))
	if err != nil {
		return nil, err
	}
	reg := &Registry{
		Host: addr, URL: "http://" + addr, Kind: "distribution",
		close:  func() error { return stopRegistry(proc) },
		output: proc.Output,
	}
	if err := waitReady(ctx, reg.URL, !d.NoAuth, proc, d.StartTimeout); err != nil {
		_ = proc.Kill()
		if strings.Contains(proc.Output(), "address already in use") {
			err = fmt.Errorf("%w: %w", errAddrInUse, err)
		}
		return nil, fmt.Errorf("start %s on %s: %w\n%s", d.RegistryBin, addr, err, proc.Output())
	}
	return reg, nil
}

func stopRegistry(proc *subproc.Proc) error {
	// distribution 2.8 exits 0 on SIGTERM after draining, or 1 ("fatal:
	// context deadline exceeded") when a client connection is still open
	// after draintimeout (Go's server counts a connection dialled but never
	// used as busy for 5 s). Either way it is gone, which is all that
	// matters here; only one that had to be killed is an error.
	err := proc.Stop(10 * time.Second)
	var exit *exec.ExitError
	if err == nil || errors.Is(err, subproc.ErrExited) || errors.As(err, &exit) {
		return nil
	}
	return fmt.Errorf("stop registry: %w", err)
}

// distributionConfig is the registry's config.yml: filesystem storage in dir,
// htpasswd auth (none when htpasswd is ""), plain HTTP on addr, quiet logs.
func distributionConfig(addr, dir, htpasswd string) string {
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %q
  delete:
    enabled: true
http:
  addr: %q
  secret: ocicred-e2e-not-a-secret
  draintimeout: 2s
`, filepath.Join(dir, "storage"), addr)
	if htpasswd == "" {
		return cfg
	}
	return cfg + fmt.Sprintf(`auth:
  htpasswd:
    realm: ocicred-e2e
    path: %q
`, htpasswd)
}

// waitReady polls /v2/ until it answers (401 when auth is on, else 200),
// the process exits, or timeout.
func waitReady(ctx context.Context, baseURL string, auth bool, proc *subproc.Proc, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := probeV2(ctx, baseURL, auth)
		if err == nil || !errors.Is(err, errNotReady) {
			return err
		}
		select {
		case <-proc.Done():
			return fmt.Errorf("registry exited: %v", proc.Err())
		case <-ctx.Done():
			return fmt.Errorf("no answer on %s/v2/ within %s: %w", baseURL, timeout, err)
		case <-tick.C:
		}
	}
}
