package azfake

import (
	"fmt"
	"net"
	"net/http"
	"strings"
)

// IMDSHost is IMDS's address, a constant in azidentity.
const IMDSHost = "169.254.169.254"

// Transport returns a transport for the real Azure clients that reaches
// this server and nothing else: it trusts the server's CA, sends IMDS
// requests (http://169.254.169.254/...) to IMDSURL and MSAL's instance
// discovery (login.microsoftonline.com) to URL, lets loopback requests
// through, and refuses any other host. It uses no proxy.
func (s *Server) Transport() http.RoundTripper {
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.Proxy = nil
	base.TLSClientConfig = s.TLSConfig()
	return &routing{s: s, base: base}
}

// Client returns an *http.Client using Transport.
func (s *Server) Client() *http.Client { return &http.Client{Transport: s.Transport()} }

type routing struct {
	s    *Server
	base *http.Transport
}

func (t *routing) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Hostname()
	out := req
	switch {
	case host == IMDSHost:
		out = rewrite(req, "http", strings.TrimPrefix(t.s.IMDSURL, "http://"))
	case host == "login.microsoftonline.com":
		out = rewrite(req, "https", t.s.Host())
	case host == "localhost" || isLoopback(host):
	default:
		return nil, fmt.Errorf("azfake: refusing a request to %s: tests reach only the fake", host)
	}
	resp, err := t.base.RoundTrip(out)
	if resp != nil {
		resp.Request = req // the client sees the address it asked for
	}
	return resp, err
}

// rewrite returns a copy of req sent to scheme://host instead.
func rewrite(req *http.Request, scheme, host string) *http.Request {
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host, out.Host = scheme, host, host
	return out
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
