// Package hostkey turns the server addresses clients send (a bare
// host:port, https://host/v1/, host/repo/image) into the host[:port] key
// registries are matched on. It is separate from config so that the
// helper, which starts on every pull, links only this.
package hostkey

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrBadAddress is the kind of error Key returns.
var ErrBadAddress = errors.New("invalid server address")

// AddressError is a server address Split refuses. Reason says what is
// wrong without repeating any part of the address; Error quotes the
// address through Printable (so without user information).
type AddressError struct {
	Addr   string // as given
	Reason string
}

// Error is "invalid server address", the address through Printable, and
// the reason.
func (e *AddressError) Error() string {
	return fmt.Sprintf("%s %q: %s", ErrBadAddress, Printable(e.Addr), e.Reason)
}

// Unwrap makes errors.Is(err, ErrBadAddress) hold.
func (e *AddressError) Unwrap() error { return ErrBadAddress }

// HasUserInfo reports whether addr holds user information before its host
// (https://user:password@host): a secret, in every case ocicred sees.
func HasUserInfo(addr string) bool {
	_, s := splitScheme(addr)
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	return strings.Contains(s, "@")
}

// splitScheme cuts "scheme://" off s when what stands before "://" is a
// scheme (RFC 3986: a letter, then letters, digits, "+", "-" or "."), and
// returns it with its "://". Anything else before a "://" is part of the
// address (and of its user information when it holds an "@"): a secret in
// it must not pass for a scheme and be shown.
func splitScheme(s string) (scheme, rest string) {
	i := strings.Index(s, "://")
	if i <= 0 {
		return "", s
	}
	for j, r := range s[:i] {
		letter := (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !letter && (j == 0 || !(r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return "", s
		}
	}
	return s[:i+3], s[i+3:]
}

// withoutUserInfo replaces addr's user information with "…@".
func withoutUserInfo(addr string) string {
	if !HasUserInfo(addr) {
		return addr
	}
	scheme, rest := splitScheme(addr)
	end := len(rest)
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		end = i
	}
	at := strings.LastIndex(rest[:end], "@")
	return scheme + "…" + rest[at:]
}

// dockerHub is the key every Docker Hub alias is matched under: docker sends
// https://index.docker.io/v1/, skopeo docker.io, others registry-1.docker.io.
const dockerHub = "docker.io"

var dockerHubAliases = map[string]bool{
	"docker.io": true, "index.docker.io": true, "registry-1.docker.io": true, "registry.hub.docker.com": true,
}

// Key turns a server address as clients send it (a bare host:port,
// https://host/v1/, host/repo/image) into the key registries are matched
// on: host[:port], lower case, without scheme, path or trailing slash.
func Key(addr string) (string, error) {
	_, host, err := Split(addr)
	return host, err
}

// Split returns the scheme (empty when none is written) and the host key
// of addr.
func Split(addr string) (scheme, host string, err error) {
	if HasUserInfo(addr) {
		return "", "", &AddressError{Addr: addr, Reason: "it holds a user name or password (user:password@); give only the host"}
	}
	s := strings.TrimSpace(addr)
	if i := strings.Index(s, "://"); i >= 0 {
		scheme, s = strings.ToLower(s[:i]), s[i+3:]
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	s = strings.ToLower(s)
	if err := checkHostPort(s); err != nil {
		return "", "", &AddressError{Addr: addr, Reason: err.Error()}
	}
	if dockerHubAliases[s] {
		s = dockerHub
	}
	return scheme, s, nil
}

// checkHostPort accepts host, host:port, IPv4, [IPv6] and [IPv6]:port.
func checkHostPort(s string) error {
	if s == "" {
		return errors.New("no host")
	}
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return errors.New("unclosed [ in IPv6 address")
		}
		host, port = s[1:end], strings.TrimPrefix(s[end+1:], ":")
		if net.ParseIP(host) == nil {
			return errors.New("what is in [ ] is not an IPv6 address")
		}
		if rest := s[end+1:]; rest != "" && !strings.HasPrefix(rest, ":") {
			return errors.New("text after the IPv6 address")
		}
	} else if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host, port = s[:i], s[i+1:]
		if err := checkHostname(host); err != nil {
			return err
		}
	} else if err := checkHostname(host); err != nil {
		return err
	}
	if port != "" || strings.HasSuffix(s, ":") {
		if strings.TrimLeft(port, "0123456789") != "" || strings.HasPrefix(port, "0") {
			return errors.New("the port is not a number from 1 to 65535")
		}
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return errors.New("the port is not a number from 1 to 65535")
		}
	}
	return nil
}

func checkHostname(h string) error {
	if h == "" {
		return errors.New("no host")
	}
	if len(h) > 253 {
		return errors.New("host name longer than 253 characters")
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 {
			return errors.New("not a host name")
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return errors.New("not a host name: it may hold only letters, digits, '.', '-' and '_'")
			}
		}
	}
	return nil
}

// Printable is an address as an error message may show it: user
// information (user:password@) replaced by "…", cut to 80 bytes, control
// bytes hidden.
func Printable(s string) string {
	s = withoutUserInfo(s)
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return '?'
		}
		return r
	}, s)
}
