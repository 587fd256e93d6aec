package daemon

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"

	"golang.org/x/net/netutil"

	"github.com/ocicred/ocicred/internal/access"
)

// Connection limits and timeouts of the socket's and the metrics port's
// HTTP servers. Without them, a local user who holds a few thousand idle
// keep-alive connections to the metrics port (which any local user may
// reach) runs the daemon out of file descriptors, and every helper and
// kubelet request fails. Past the limit, new connections wait in the
// kernel's backlog (a helper then answers without the daemon); an idle
// connection is closed after IdleTimeout, a request's headers must arrive
// within HeaderTimeout, and an answer must be taken within WriteTimeout
// (FirstTokenWait plus time to write it).
const (
	SocketMaxConns  = 512
	MetricsMaxConns = 16
	IdleTimeout     = 30 * time.Second
	HeaderTimeout   = 5 * time.Second
	WriteTimeout    = FirstTokenWait + writeSlack
)

// writeSlack is the time to write an answer once it is known.
const writeSlack = 10 * time.Second

// socketListener is the API socket as the server sees it: each connection
// carries its caller, read at accept, and at most max are open at once.
func socketListener(ln net.Listener, max int) net.Listener {
	return netutil.LimitListener(peerListener{ln}, max)
}

// peerListener reads each connection's caller (SO_PEERCRED) as it is
// accepted, while it is still a *net.UnixConn, and hands it on as the
// connection's remote address: the limit's wrapper lets through only the
// methods of net.Conn, and RemoteAddr is one.
type peerListener struct{ net.Listener }

// Accept accepts a connection and reads its caller; a caller that cannot
// be read travels as an error and is refused later (fail closed).
func (l peerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	caller, err := access.FromConn(c)
	return peerConn{Conn: c, peer: peerAddr{caller: caller, err: err}}, nil
}

type peerConn struct {
	net.Conn
	peer peerAddr
}

// RemoteAddr is the caller, a peerAddr.
func (c peerConn) RemoteAddr() net.Addr { return c.peer }

// peerAddr is a caller, or why it could not be read.
type peerAddr struct {
	caller access.Caller
	err    error
}

// Network is "unix": callers come only through the socket.
func (peerAddr) Network() string { return "unix" }

// String names the caller for net/http's logs: its pid and uid.
func (a peerAddr) String() string {
	if a.err != nil {
		return "unknown caller"
	}
	// net/http asks for this once per connection: no Sprintf.
	return "pid " + strconv.Itoa(a.caller.PID) + " uid " + strconv.Itoa(a.caller.UID)
}

// withCaller stores the peer's identity in each connection's context; a
// peer whose identity could not be read is refused later (fail closed).
func withCaller(ctx context.Context, c net.Conn) context.Context {
	peer, ok := c.RemoteAddr().(peerAddr)
	if !ok {
		peer.err = errors.New("connection did not come through the socket's listener")
	}
	return context.WithValue(ctx, callerKey{}, peer)
}

// callerKey holds a request's peerAddr in its context.
type callerKey struct{}
