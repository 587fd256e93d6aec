package gcpfake

import (
	"slices"
	"strings"
	"time"
)

// issued is an access token (or a registry bearer token), bound to whom it
// was issued for, its scopes and its expiry by the server's clock.
type issued struct {
	principal string
	scopes    []string
	expires   time.Time
}

// issueToken makes an access token for principal with scopes, valid for
// lifetime from now by the server's clock.
func (s *Server) issueToken(principal string, scopes []string, lifetime time.Duration) string {
	tok := "ya29.fake-" + randomString(48)
	s.mu.Lock()
	s.state.tokens[tok] = issued{principal: principal, scopes: slices.Clone(scopes), expires: s.opts.now().Add(lifetime)}
	s.mu.Unlock()
	return tok
}

// tokenStatus is what an endpoint learns from checking a token.
type tokenStatus int

const (
	tokenUnknown tokenStatus = iota
	tokenExpired
	tokenValid
)

// lookup checks an access token: whom it belongs to and whether it is
// still valid by the server's clock.
func (s *Server) lookup(tok string) (issued, tokenStatus) {
	s.mu.Lock()
	it, ok := s.state.tokens[tok]
	s.mu.Unlock()
	switch {
	case !ok || tok == "":
		return issued{}, tokenUnknown
	case !s.opts.now().Before(it.expires):
		return it, tokenExpired
	}
	return it, tokenValid
}

// TokenOwner returns the principal an access token was issued to and
// whether it is an unexpired token this server issued.
func (s *Server) TokenOwner(tok string) (string, bool) {
	it, st := s.lookup(tok)
	return it.principal, st == tokenValid
}

// TokenScopes returns the scopes an access token was issued with.
func (s *Server) TokenScopes(tok string) []string {
	it, _ := s.lookup(tok)
	return slices.Clone(it.scopes)
}

// hasScope reports whether scopes hold one that covers every Google API
// (cloud-platform) or one of prefix's.
func hasScope(scopes []string, prefixes ...string) bool {
	for _, sc := range scopes {
		if sc == CloudPlatformScope {
			return true
		}
		for _, p := range prefixes {
			if strings.HasPrefix(sc, p) {
				return true
			}
		}
	}
	return false
}

// GrantReader lets principal pull through registry fronts, as
// roles/artifactregistry.reader does.
func (s *Server) GrantReader(principal string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.readers[principal] = true
}

// RevokeReader undoes GrantReader.
func (s *Server) RevokeReader(principal string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.state.readers, principal)
}

func (s *Server) isReader(principal string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.readers[principal]
}

// AllowImpersonation lets caller (a principal) get access tokens of the
// service account target, as roles/iam.serviceAccountTokenCreator on it
// does.
func (s *Server) AllowImpersonation(caller, target string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.canAct[target] == nil {
		s.state.canAct[target] = map[string]bool{}
	}
	s.state.canAct[target][caller] = true
}

func (s *Server) mayImpersonate(caller, target string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.canAct[target][caller]
}

// SetMetadataAccount sets the metadata server's default service account
// (its email); "" leaves the instance without one, and the token and email
// paths answer 404. scopes are the instance's access scopes (nil means
// cloud-platform).
func (s *Server) SetMetadataAccount(email string, scopes ...string) {
	if len(scopes) == 0 {
		scopes = []string{CloudPlatformScope}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.metaSA = email
	s.state.metaSc = slices.Clone(scopes)
}
