package gcpfake

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Registry user names Artifact Registry accepts with an access token as
// the password: the documented one, auth-provider-gcp's, gcloud's, and
// docker-credential-gcr's versioned ones. Its unversioned "_dcgcr__token"
// is refused (docker-credential-gcr#129).
const (
	RegistryUser = "oauth2accesstoken"
	tokenUser    = "_token"
	gcloudUser   = "_dcgcloud_token"
)

// dcgcrUser matches docker-credential-gcr's _dcgcr_<major>_<minor>_<patch>_token.
var dcgcrUser = regexp.MustCompile(`^_dcgcr_[0-9]+_[0-9]+_[0-9]+_token$`)

// acceptedUser reports whether Artifact Registry takes user with an access token.
func acceptedUser(user string) bool {
	return user == RegistryUser || user == tokenUser || user == gcloudUser || dcgcrUser.MatchString(user)
}

// registryScopes are the scope prefixes besides cloud-platform that let
// a token pull (auth-provider-gcp, Enabled).
var registryScopes = []string{"https://www.googleapis.com/auth/devstorage."}

// NewRegistryFront returns an Artifact Registry-like gate in front of
// upstream, a registry that needs no auth. Every request but /v2/token
// must carry "Authorization: Bearer <registry token>" for a registry token
// the front handed out and that has not expired by fake's clock; the
// header is dropped before forwarding. Without one the answer is 401 with
// the challenge
//
//	Bearer realm="<scheme>://HOST/v2/token",service="HOST"
//
// GET /v2/token takes Basic <user>:<access token>: a user name
// Artifact Registry accepts (oauth2accesstoken, _token, _dcgcloud_token,
// _dcgcr_N_N_N_token; not _dcgcr__token) and an access token fake issued,
// unexpired, with a cloud-platform or devstorage scope. An unknown user,
// token or scope gets 401 UNAUTHORIZED; a principal not granted the reader
// role (GrantReader) gets 403 DENIED. The registry token lasts as long as
// the access token. One front serves every Google registry host: a token
// is bound to its principal, not to a host.
func NewRegistryFront(fake *Server, upstream *url.URL) http.Handler {
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(upstream)
		pr.Out.Host = pr.In.Host // so upstream builds URLs that come back here
		pr.Out.Header.Del("Authorization")
	}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/token" {
			fake.serveRegistryToken(w, r)
			return
		}
		c := Call{Endpoint: EndpointRegistry, Path: r.URL.Path, Time: fake.opts.now()}
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		fake.mu.Lock()
		it, ok := fake.state.regToks[tok]
		fake.mu.Unlock()
		if !strings.EqualFold(scheme, "Bearer") || !ok || !fake.opts.now().Before(it.expires) {
			c.Status, c.Error = http.StatusUnauthorized, "UNAUTHORIZED"
			fake.record(c)
			challenge(w, r)
			return
		}
		c.Principal, c.Status = it.principal, http.StatusOK
		fake.record(c)
		proxy.ServeHTTP(w, r)
	})
}

// challenge sends Artifact Registry's 401 with its Bearer challenge.
func challenge(w http.ResponseWriter, r *http.Request) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="`+scheme+`://`+r.Host+`/v2/token",service="`+r.Host+`"`)
	registryError(w, http.StatusUnauthorized, "UNAUTHORIZED", "Unauthenticated request. Unauthenticated requests do not have permission \"artifactregistry.repositories.downloadArtifacts\" on resource")
}

// registryError writes a Docker registry errors body and returns its code.
func registryError(w http.ResponseWriter, status int, code, msg string) string {
	writeJSON(w, status, map[string][]map[string]string{"errors": {{"code": code, "message": msg}}})
	return code
}

// registryWireError is the registry's answer to ServerError and ServiceUnavailable.
func registryWireError(w http.ResponseWriter, status int, msg string) string {
	return registryError(w, status, "UNAVAILABLE", msg)
}

// serveRegistryToken answers GET /v2/token (see NewRegistryFront).
func (s *Server) serveRegistryToken(w http.ResponseWriter, r *http.Request) {
	c := Call{Endpoint: EndpointRegistryToken, Path: r.URL.Path, Time: s.opts.now()}
	c.Fault = s.takeFault(EndpointRegistryToken)
	if !s.preFault(w, r, &c, registryWireError) {
		return
	}
	c.Status, c.Error = s.registryToken(w, r, &c)
	s.record(c)
}

// registryToken checks one registry token request and answers it.
func (s *Server) registryToken(w http.ResponseWriter, r *http.Request, c *Call) (int, string) {
	unauthorized := func(msg string) (int, string) {
		return http.StatusUnauthorized, registryError(w, http.StatusUnauthorized, "UNAUTHORIZED", msg)
	}
	user, pass, ok := r.BasicAuth()
	c.User = user
	if !ok {
		return unauthorized("No valid credential was supplied.")
	}
	if !acceptedUser(user) {
		return unauthorized("No valid credential was supplied.")
	}
	it, st := s.lookup(pass)
	c.Principal = it.principal
	switch {
	case st == tokenExpired:
		return unauthorized("The access token has expired.")
	case st != tokenValid:
		return unauthorized("No valid credential was supplied.")
	case !hasScope(it.scopes, registryScopes...):
		return unauthorized("Request had insufficient authentication scopes.")
	case !s.isReader(it.principal):
		return http.StatusForbidden, registryError(w, http.StatusForbidden, "DENIED",
			"Permission \"artifactregistry.repositories.downloadArtifacts\" denied on resource (or it may not exist).")
	}
	reg := randomString(48)
	s.mu.Lock()
	s.state.regToks[reg] = issued{principal: it.principal, scopes: it.scopes, expires: it.expires}
	s.mu.Unlock()
	now := s.opts.now()
	writeJSON(w, http.StatusOK, map[string]any{"token": reg, "access_token": reg,
		"expires_in": int64(it.expires.Sub(now) / time.Second), "issued_at": now.UTC().Format(time.RFC3339)})
	return http.StatusOK, ""
}
