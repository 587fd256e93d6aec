package awsfake

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"time"
)

// RegistryUser is the user name of every ECR registry token.
const RegistryUser = "AWS"

// token is an issued registry password, bound to whom and where it was
// issued for.
type token struct {
	expires   time.Time
	service   string // "ecr" or "ecr-public"
	principal string // the caller's ARN
	region    string // the call's signing region
}

// tokenStatus is what a registry learns from checking a password.
type tokenStatus int

const (
	tokenUnknown tokenStatus = iota
	tokenExpired
	tokenValid
)

// issueToken makes a fresh registry password of service for principal in
// region and returns the authorizationToken (base64 "AWS:password") and
// its expiry.
func (s *Server) issueToken(service, principal, region string) (string, time.Time) {
	pass := randomString(96)
	expires := s.opts.now().Add(s.opts.tokenLifetime)
	s.mu.Lock()
	s.state.tokens[pass] = token{expires: expires, service: service, principal: principal, region: region}
	s.mu.Unlock()
	return base64.StdEncoding.EncodeToString([]byte(RegistryUser + ":" + pass)), expires
}

// checkToken tells whether user and pass are an issued, unexpired token
// that accept takes. A token accept refuses is unknown, expired or not.
func (s *Server) checkToken(user, pass string, accept func(token) bool) tokenStatus {
	if user != RegistryUser {
		return tokenUnknown
	}
	s.mu.Lock()
	tok, ok := s.state.tokens[pass]
	s.mu.Unlock()
	switch {
	case !ok || !accept(tok):
		return tokenUnknown
	case !s.opts.now().Before(tok.expires):
		return tokenExpired
	}
	return tokenValid
}

// anyRegistry accepts every token.
func anyRegistry(token) bool { return true }

// ValidToken reports whether user and pass are a registry token this server
// issued and that has not expired by its clock, whoever it was issued to
// and wherever: a registry front also checks that (Registry).
func (s *Server) ValidToken(user, pass string) bool {
	return s.checkToken(user, pass, anyRegistry) == tokenValid
}

// ValidAuthorization reports whether an Authorization header value
// ("Basic base64(AWS:password)") carries a token ValidToken accepts.
func (s *Server) ValidAuthorization(header string) bool {
	return s.checkAuthorization(header, anyRegistry) == tokenValid
}

// checkAuthorization decodes a Basic Authorization header and checks it.
func (s *Server) checkAuthorization(header string, accept func(token) bool) tokenStatus {
	scheme, encoded, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return tokenUnknown
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
	if err != nil {
		return tokenUnknown
	}
	user, pass, _ := strings.Cut(string(raw), ":")
	return s.checkToken(user, pass, accept)
}

// randomString returns n random bytes in base64 without padding or ':'.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawStdEncoding.EncodeToString(b)
}
