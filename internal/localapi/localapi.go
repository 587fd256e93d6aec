// Package localapi is the daemon's HTTP API on its unix socket: the paths,
// the JSON shapes, and the client that the helper and the CLI use. The
// client speaks HTTP/1.0 over the socket itself rather than through
// net/http: the helper starts on every pull, and net/http (with TLS and
// HTTP/2 behind it) costs its start-up more than the whole request.
package localapi

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ocicred/ocicred/internal/defaults"
)

// DefaultSocket is where the daemon listens unless configured otherwise.
const DefaultSocket = defaults.Socket

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
	// Reason, on not_found, says which case it is (not managed,
	// unprotected, not allowed), for `ocicred get` and OCICRED_DEBUG.
	Reason string `json:"reason,omitempty"`
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
	// Note says what the registry is left out of, and why (nodeWide,
	// hosts.toml for gar and acr).
	Note string `json:"note,omitempty"`
	// ClockSkewSeconds is the token issuer's clock minus the daemon's, in
	// seconds, where the token tells (acr: its iat against when it
	// arrived); absent when unknown or under a second.
	ClockSkewSeconds int64 `json:"clockSkewSeconds,omitempty"`
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

// NotFoundMessage is the Error text of a not_found answer.
const NotFoundMessage = "the daemon has no credentials for this address"

// ErrNotFound is the daemon's not_found answer (CodeNotFound).
var ErrNotFound = errors.New(NotFoundMessage)

// NotFoundError is ErrNotFound with the daemon's reason (ErrorBody.Reason);
// errors.Is(err, ErrNotFound) holds for it.
type NotFoundError struct{ Reason string }

func (e *NotFoundError) Error() string        { return NotFoundMessage + ": " + e.Reason }
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// ErrUnreachable wraps every failure to reach the daemon: no socket, no
// listener, no permission, no answer within the Client's Deadline. Callers
// fall back to answering without it.
var ErrUnreachable = errors.New("daemon not reachable")

// ErrNoAnswer is ErrUnreachable for a daemon that accepted the connection
// and then did not answer (in time, or at all): asking it again is no use.
var ErrNoAnswer = errors.New("it accepted the connection but gave no answer")

// Client talks to the daemon.
type Client struct {
	socket string
	// Name is sent in ClientHeader.
	Name string
	// Deadline bounds the wait for an answer once connected; zero means
	// RequestTimeout. A daemon that has not answered by then is
	// ErrUnreachable: callers that can answer without it do so.
	Deadline time.Duration
	// DialTimeout bounds connecting; zero means DialTimeout. Only a test
	// that loads the machine on purpose (e2e TestLoad) sets it longer, so
	// that its own starved goroutines do not count as a daemon not there.
	DialTimeout time.Duration
}

// Timeouts of a Client: connecting is quick or the daemon is not there; an
// answer may wait up to 10 s for a registry's first token.
const (
	DialTimeout    = time.Second
	RequestTimeout = 15 * time.Second
)

// DaemonDeadline is how long the credential helper, ocicred get and the
// kubelet plugin wait for the daemon's answer before working it out
// without the daemon. The daemon answers from memory in well under a
// millisecond; one that accepts but has not answered after this long is
// stopped (SIGSTOP), wedged, or still starting, and every pull would
// otherwise wait RequestTimeout and then fail.
const DaemonDeadline = 3 * time.Second

// maxBody bounds an answer.
const maxBody = 4 << 20

// NewClient returns a client for the daemon listening on socket.
func NewClient(socket string) *Client { return &Client{socket: socket} }

// Credentials asks for the credentials of a server address. The error is
// ErrNotFound, ErrUnreachable (wrapped), or an error whose text is the
// daemon's reason.
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
	status, data, err := c.roundTrip(ctx, path)
	if err != nil {
		return err
	}
	if status == 200 {
		if err := json.Unmarshal(data, into); err != nil {
			return fmt.Errorf("decode the daemon's answer: %w", err)
		}
		return nil
	}
	var eb ErrorBody
	if err := json.Unmarshal(data, &eb); err != nil || eb.Error == "" {
		return fmt.Errorf("daemon answered HTTP %d", status)
	}
	if eb.Code == CodeNotFound {
		if eb.Reason != "" {
			return &NotFoundError{Reason: eb.Reason}
		}
		return ErrNotFound
	}
	return errors.New(eb.Error)
}

// roundTrip sends one HTTP/1.0 GET (so the answer is never chunked: its
// body ends when the daemon closes the connection) and reads the answer.
func (c *Client) roundTrip(ctx context.Context, path string) (int, []byte, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %v", ErrUnreachable, unwrapOp(err))
	}
	defer conn.Close()
	wait := c.Deadline
	if wait <= 0 {
		wait = RequestTimeout
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		wait = time.Until(dl)
	}
	deadline := time.Now().Add(wait)
	if err := conn.SetDeadline(deadline); err != nil {
		return 0, nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	cut := func(err error) error { // says so when ctx, not the daemon, ended the exchange
		if !stop() && ctx.Err() != nil {
			return fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return err
	}

	var req strings.Builder
	req.WriteString("GET " + path + " HTTP/1.0\r\nHost: ocicred\r\n")
	if c.Name != "" {
		req.WriteString(ClientHeader + ": " + c.Name + "\r\n")
	}
	req.WriteString("\r\n")
	// A failed write is not the end: whatever the daemon said before it
	// closed (an answer, or garbage) is still read, and is the better news.
	_, _ = io.WriteString(conn, req.String())
	// An interim 102 Processing says the daemon is alive and waiting on
	// AWS for a first token: from then on the wait is RequestTimeout.
	extended := false
	processing := func() {
		if extended {
			return
		}
		extended = true
		longer := RequestTimeout
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < longer {
			longer = time.Until(dl)
		}
		if conn.SetDeadline(time.Now().Add(longer)) == nil {
			wait = longer
		}
	}
	dr := &deadlineReader{r: conn}
	status, data, err := readResponse(bufio.NewReader(dr), processing)
	switch {
	case err != nil && dr.timeout != nil:
		err = dr.timeout // what cut the answer short, not how short it was
	case err != nil && dr.eof:
		err = io.ErrUnexpectedEOF // the daemon went in the middle of its head
	}
	var ne net.Error
	switch {
	case err != nil && ctx.Err() != nil && !stop(): // ctx, not the daemon, ended the exchange
		return 0, nil, fmt.Errorf("read the daemon's answer: %w", cut(err))
	case errors.As(err, &ne) && ne.Timeout():
		return 0, nil, fmt.Errorf("%w: %w within %s", ErrUnreachable, ErrNoAnswer, wait.Round(time.Millisecond))
	case status == 0 && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)):
		return 0, nil, fmt.Errorf("%w: %w: it closed the connection", ErrUnreachable, ErrNoAnswer)
	case err != nil:
		return 0, nil, fmt.Errorf("read the daemon's answer: %w", err)
	}
	return status, data, nil
}

// conn is what roundTrip needs of a connection to the daemon: a net.Conn,
// or a blockingConn.
type conn interface {
	io.ReadWriteCloser
	SetDeadline(t time.Time) error
}

// dial connects to the daemon. A context that can never be cancelled (the
// credential helper's context.Background()) gets a socket read with
// blocking system calls, which spares the helper the netpoller's cost
// (dialBlocking says how much); any other keeps net's, which a cancel can
// interrupt.
func (c *Client) dial(ctx context.Context) (conn, error) {
	timeout := cmp.Or(c.DialTimeout, DialTimeout)
	if ctx.Done() == nil {
		return dialBlocking(c.socket, timeout)
	}
	d := net.Dialer{Timeout: timeout}
	return d.DialContext(ctx, "unix", c.socket)
}

// deadlineReader keeps the error of a read that timed out, and whether
// the connection ended. bufio's ReadLine, under textproto, hands back a
// line that the deadline or the end of the connection cut short as if it
// were whole and drops the error: a daemon too slow, or gone, in the
// middle of its status line or headers would read as a garbled answer
// rather than as none.
type deadlineReader struct {
	r       io.Reader
	timeout error
	eof     bool
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	var ne net.Error
	if d.timeout == nil && errors.As(err, &ne) && ne.Timeout() {
		d.timeout = err
	}
	d.eof = d.eof || errors.Is(err, io.EOF)
	return n, err
}

// maxInterim bounds the interim (1xx) answers read before the final one.
const maxInterim = 4

// readResponse reads a status line, headers, and a body that runs to
// Content-Length or to the end of the connection. Interim answers (1xx)
// before it are skipped, after calling interim (when not nil) for each.
func readResponse(r *bufio.Reader, interim func()) (int, []byte, error) {
	tp := textproto.NewReader(r)
	var status int
	var hdr textproto.MIMEHeader
	for n := 0; ; n++ {
		line, err := tp.ReadLine()
		if err != nil {
			return 0, nil, err
		}
		proto, rest, _ := strings.Cut(line, " ")
		code, _, _ := strings.Cut(rest, " ")
		status, err = strconv.Atoi(code)
		if !strings.HasPrefix(proto, "HTTP/1.") || err != nil || len(code) != 3 {
			return 0, nil, fmt.Errorf("not an HTTP answer: %q", line)
		}
		if hdr, err = tp.ReadMIMEHeader(); err != nil {
			return 0, nil, err
		}
		if status >= 200 {
			break
		}
		if status < 100 || n == maxInterim {
			return 0, nil, fmt.Errorf("not an HTTP answer: status %d", status)
		}
		if interim != nil {
			interim()
		}
	}
	body, want := io.Reader(r), int64(-1)
	if cl := hdr.Get("Content-Length"); cl != "" {
		n, err := strconv.ParseInt(cl, 10, 64)
		if err != nil || n < 0 || n > maxBody {
			return 0, nil, fmt.Errorf("bad Content-Length %q", cl)
		}
		body, want = io.LimitReader(r, n), n
	}
	data, err := io.ReadAll(io.LimitReader(body, maxBody+1))
	if err != nil {
		return 0, nil, err
	}
	if len(data) > maxBody {
		return 0, nil, errors.New("answer larger than 4 MiB")
	}
	if want >= 0 && int64(len(data)) < want { // the daemon went in the middle of its answer
		return 0, nil, io.ErrUnexpectedEOF
	}
	return status, data, nil
}

// unwrapOp drops the "dial unix PATH:" prefix a *net.OpError repeats.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}
