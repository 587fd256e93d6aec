package azfake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"

	"github.com/golang-jwt/jwt/v5"
)

// NullUser is the user name that tells ACR the password is a refresh token.
const NullUser = "00000000-0000-0000-0000-000000000000"

// Registry is an ACR-like registry in front of a real one (plain HTTP on
// loopback). It exchanges Entra ID tokens its Server issued for refresh
// tokens bound to it, refresh tokens for access tokens, and lets through
// to upstream only pulls with an access token it issued.
type Registry struct {
	// URL is the registry's base URL, http://127.0.0.1:PORT; Host is its
	// host:port, the service name and the aud of its refresh tokens.
	URL, Host string

	srv      *Server
	hs       *httptest.Server
	upstream *url.URL
	proxy    *httputil.ReverseProxy

	mu          sync.Mutex
	pull        map[string]bool // principals (oid) with AcrPull
	armDisabled bool
}

// NewRegistry starts a registry in front of upstream, a registry that
// needs no auth. It stops with s.Close.
func (s *Server) NewRegistry(upstream *url.URL) *Registry {
	r := &Registry{srv: s, upstream: upstream, pull: map[string]bool{}}
	r.proxy = &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(upstream)
		pr.Out.Host = pr.In.Host
		pr.Out.Header.Del("Authorization")
	}}
	r.hs = httptest.NewServer(http.HandlerFunc(r.serve))
	r.URL, r.Host = r.hs.URL, strings.TrimPrefix(r.hs.URL, "http://")
	s.mu.Lock()
	s.registries = append(s.registries, r)
	s.mu.Unlock()
	return r
}

// Grant gives principal (a client id: an application's or a managed
// identity's) the AcrPull role on the registry.
func (r *Registry) Grant(principal string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pull[principal] = true
}

// Revoke takes AcrPull away from principal.
func (r *Registry) Revoke(principal string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.pull, principal)
}

// DisableARMAudience makes the exchange refuse Entra tokens for ARM's
// audience, as a registry with authentication-as-arm disabled does.
func (r *Registry) DisableARMAudience(disabled bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.armDisabled = disabled
}

func (r *Registry) canPull(principal string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pull[principal]
}

// serve routes a registry request.
func (r *Registry) serve(w http.ResponseWriter, req *http.Request) {
	switch {
	case req.URL.Path == "/oauth2/exchange" && req.Method == http.MethodPost:
		r.exchange(w, req)
	case req.URL.Path == "/oauth2/token" && (req.Method == http.MethodGet || req.Method == http.MethodPost):
		r.token(w, req)
	case req.URL.Path == "/v2" || strings.HasPrefix(req.URL.Path, "/v2/"):
		r.v2(w, req)
	default:
		// ACR answers 404 to GET /oauth2/exchange (Azure/acr#166).
		r.writeError(w, http.StatusNotFound, "NOT_FOUND", "404 page not found")
	}
}

// begin records the start of a registry call: it applies a fault, and
// reports whether the call is answered already.
func (r *Registry) begin(w http.ResponseWriter, req *http.Request, c *Call) (Fault, bool) {
	c.Registry, c.Method = r.Host, req.Method
	f := r.srv.takeFault(c.Endpoint)
	c.Fault = f
	if f == Hang {
		r.srv.hang(req.Context(), *c)
		return f, true
	}
	if transientFault(w, f, c, func(status int, code, desc string) { r.writeError(w, status, strings.ToUpper(code), desc) }) {
		r.srv.record(*c)
		return f, true
	}
	if f == InvalidGrant {
		r.fail(w, c, http.StatusUnauthorized, "UNAUTHORIZED", "invalid grant")
		return f, true
	}
	return f, false
}

// fail records c as refused and writes the registry's error.
func (r *Registry) fail(w http.ResponseWriter, c *Call, status int, code, msg string) {
	c.Status, c.Error = status, code
	r.srv.record(*c)
	if status == http.StatusUnauthorized {
		r.challenge(w)
	}
	r.writeError(w, status, code, msg)
}

// exchange answers POST /oauth2/exchange: an Entra ID access token of the
// server, for the ACR audience (or ARM's, unless disabled), of the tenant
// named, for a principal with AcrPull, becomes a refresh token for this
// registry.
func (r *Registry) exchange(w http.ResponseWriter, req *http.Request) {
	c := Call{Endpoint: EndpointExchange}
	req.Body = http.MaxBytesReader(w, req.Body, maxBody)
	formErr := req.ParseForm()
	form := req.PostForm
	c.Tenant = form.Get("tenant")
	f, done := r.begin(w, req, &c)
	if done {
		return
	}
	switch g := form.Get("grant_type"); {
	case formErr != nil:
		r.fail(w, &c, http.StatusBadRequest, "BAD_REQUEST", "cannot parse the form")
		return
	case g != "access_token" && g != "access_token_refresh_token":
		r.fail(w, &c, http.StatusBadRequest, "UNSUPPORTED_GRANT_TYPE", "grant_type "+g+" is not supported")
		return
	case form.Get("service") != r.Host:
		r.fail(w, &c, http.StatusBadRequest, "BAD_REQUEST", "service must be "+r.Host)
		return
	}
	claims, err := r.srv.verify(form.Get("access_token"), kindEntra)
	if err != nil {
		r.fail(w, &c, http.StatusUnauthorized, "UNAUTHORIZED", "the access token is invalid: "+err.Error())
		return
	}
	c.ClientID = str(claims, "appid")
	tid := str(claims, "tid")
	switch aud := str(claims, "aud"); {
	case aud == ARMAudience && r.armDisabledNow():
		r.fail(w, &c, http.StatusUnauthorized, "UNAUTHORIZED", "authentication with ARM-audience tokens is disabled on this registry; use an ACR-audience token")
		return
	case aud != ACRAudience && aud != ARMAudience:
		r.fail(w, &c, http.StatusUnauthorized, "UNAUTHORIZED", "the access token's audience is not accepted")
		return
	case c.Tenant != "" && c.Tenant != tid:
		r.fail(w, &c, http.StatusUnauthorized, "UNAUTHORIZED", "the access token was issued in another tenant")
		return
	case !r.canPull(str(claims, "oid")):
		r.fail(w, &c, http.StatusUnauthorized, "UNAUTHORIZED", "the principal has no role assignment on this registry (AcrPull)")
		return
	}
	rt := jwt.MapClaims{"jti": randomString(32), "sub": str(claims, "oid"), "iss": "Azure Container Registry",
		"aud": r.Host, "version": "1.0", "grant_type": "refresh_token", "tenant": tid, "appid": c.ClientID,
		"permissions": map[string]any{"actions": []string{"read"}}, "azfake_kind": kindRefresh}
	r.srv.times(rt, r.srv.opts.refreshLifetime, f == Expired)
	c.Status = http.StatusOK
	r.srv.record(c)
	writeJSON(w, http.StatusOK, map[string]string{"refresh_token": r.srv.sign(rt)})
}

func (r *Registry) armDisabledNow() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.armDisabled
}

// token answers /oauth2/token: a refresh token of this registry (the form's
// refresh_token grant, or Basic NullUser:<refresh token>) becomes an access
// token for the scope asked, pull only.
func (r *Registry) token(w http.ResponseWriter, req *http.Request) {
	c := Call{Endpoint: EndpointACRToken}
	req.Body = http.MaxBytesReader(w, req.Body, maxBody)
	_ = req.ParseForm()
	c.Scope = req.Form.Get("scope")
	if _, done := r.begin(w, req, &c); done {
		return
	}
	refresh := ""
	if user, pass, ok := req.BasicAuth(); ok {
		if user != NullUser {
			r.fail(w, &c, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
			return
		}
		refresh = pass
	} else if req.Method == http.MethodPost && req.PostForm.Get("grant_type") == "refresh_token" {
		refresh = req.PostForm.Get("refresh_token")
	}
	if s := req.Form.Get("service"); s != "" && s != r.Host {
		r.fail(w, &c, http.StatusBadRequest, "BAD_REQUEST", "service must be "+r.Host)
		return
	}
	claims, err := r.srv.verify(refresh, kindRefresh)
	if err != nil || str(claims, "aud") != r.Host {
		// A refresh token of another registry is refused like a forged one.
		r.fail(w, &c, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
		return
	}
	c.ClientID = str(claims, "appid")
	if !r.canPull(str(claims, "sub")) {
		r.fail(w, &c, http.StatusUnauthorized, "UNAUTHORIZED", "the principal has no role assignment on this registry (AcrPull)")
		return
	}
	at := jwt.MapClaims{"jti": randomString(32), "sub": str(claims, "sub"), "iss": "Azure Container Registry",
		"aud": r.Host, "version": "2.0", "access": pullAccess(c.Scope), "azfake_kind": kindAccess}
	r.srv.times(at, DefaultAccessLifetime, false)
	c.Status = http.StatusOK
	r.srv.record(c)
	writeJSON(w, http.StatusOK, map[string]string{"access_token": r.srv.sign(at)})
}

// pullAccess is the access an AcrPull principal gets for the scopes asked
// ("repository:NAME:pull,push ..."): pull on each repository.
func pullAccess(scope string) []map[string]any {
	out := []map[string]any{}
	for _, sc := range strings.Fields(scope) {
		parts := strings.Split(sc, ":")
		if len(parts) == 3 && parts[0] == "repository" && strings.Contains(parts[2], "pull") {
			out = append(out, map[string]any{"type": "repository", "name": parts[1], "actions": []string{"pull"}})
		}
	}
	return out
}

// v2 lets a pull with an access token of this registry through to
// upstream; anything else gets 401 and a Bearer challenge.
func (r *Registry) v2(w http.ResponseWriter, req *http.Request) {
	c := Call{Endpoint: EndpointV2}
	if _, done := r.begin(w, req, &c); done {
		return
	}
	tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	claims, err := r.srv.verify(tok, kindAccess)
	if !ok || err != nil || str(claims, "aud") != r.Host {
		r.fail(w, &c, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required, visit https://aka.ms/acr/authorization for more information.")
		return
	}
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		r.fail(w, &c, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required: pull only")
		return
	}
	if repo := repository(req.URL.Path); repo != "" && !allows(claims, repo) {
		r.fail(w, &c, http.StatusUnauthorized, "UNAUTHORIZED", "the access token does not allow pulling "+repo)
		return
	}
	c.Status = http.StatusOK
	r.srv.record(c)
	r.proxy.ServeHTTP(w, req)
}

// repository is the repository a /v2/NAME/{manifests,blobs,tags}/... path
// names; "" for /v2/.
func repository(path string) string {
	p := strings.TrimPrefix(path, "/v2/")
	for _, sep := range []string{"/manifests/", "/blobs/", "/tags/"} {
		if i := strings.Index(p, sep); i > 0 {
			return p[:i]
		}
	}
	return ""
}

// allows reports whether an access token's claims allow pulling repo.
func allows(claims jwt.MapClaims, repo string) bool {
	raw, _ := json.Marshal(claims["access"])
	var access []struct {
		Type, Name string
		Actions    []string
	}
	_ = json.Unmarshal(raw, &access)
	for _, a := range access {
		if a.Type == "repository" && a.Name == repo {
			return true
		}
	}
	return false
}

// challenge sets ACR's Bearer challenge.
func (r *Registry) challenge(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="`+r.URL+`/oauth2/token",service="`+r.Host+`"`)
}

// writeError writes the Docker registry errors body.
func (r *Registry) writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	writeJSON(w, status, map[string][]map[string]string{"errors": {{"code": code, "message": msg}}})
}
