package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// SocketMode is the socket's permission: owner and group may connect.
const SocketMode = 0o660

// listen opens the unix socket at path. It refuses to take over a socket
// another daemon still answers on, removes a stale one, and sets the mode
// and group, failing if either cannot be set.
func listen(path string, gid int) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("socket folder: %w", err)
	}
	if err := clearStale(path); err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, SocketMode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("set the mode of %s: %w", path, err)
	}
	if gid >= 0 {
		if err := os.Chown(path, -1, gid); err != nil {
			ln.Close()
			return nil, fmt.Errorf("give %s to group %d: %w", path, gid, err)
		}
	}
	return ln, nil
}

// clearStale removes a socket file nobody answers on.
func clearStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%s exists and is not a socket; remove it or choose another socket path", path)
	}
	if c, err := net.DialTimeout("unix", path, 500*time.Millisecond); err == nil {
		c.Close()
		return fmt.Errorf("another ocicred daemon answers on %s; stop it first, or give this one another --socket", path)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove stale socket %s: %w", path, err)
	}
	return nil
}

// keepSocket listens again when the socket file is deleted under the
// running daemon (a careless cleanup of /run): without it, every client
// would fall back to the slow path until a restart.
func (d *Daemon) keepSocket(ctx context.Context, srv *http.Server) {
	t := time.NewTicker(d.opts.SocketCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := os.Lstat(d.socket); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		ln, err := listen(d.socket, d.sockGID)
		if err != nil {
			d.log.Error("socket file was deleted and cannot be created again", "socket", d.socket, "err", err)
			continue
		}
		d.log.Warn("socket file was deleted; listening again", "socket", d.socket)
		go func() { _ = srv.Serve(socketListener(ln, d.opts.SocketMaxConns)) }()
	}
}
