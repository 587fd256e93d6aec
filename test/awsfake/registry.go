package awsfake

import (
	"encoding/json"
	"net/http"
	"net/http/httputil"
	"net/url"
)

// Registry is the registry a front stands for, and so the tokens it takes.
// A token ECR issued belongs to the caller's principal and to the region
// the call was signed for, as on ECR, where a token is regional and opens
// only the registries its principal may reach.
type Registry struct {
	// Account and Region name a private registry,
	// <Account>.dkr.ecr.<Region>.amazonaws.com. It takes tokens that ECR
	// issued in Region to a principal of Account: an IAM user of the
	// server's account (WithAccount) or a role assumed in Account.
	Account, Region string
	// Public makes it ECR Public (public.ecr.aws): it takes tokens that
	// ECR Public issued in us-east-1, its only token region, to any
	// principal. Account and Region are then ignored.
	Public bool
}

// publicRegion is the one region ECR Public issues registry tokens in.
const publicRegion = "us-east-1"

// accepts reports whether reg takes tok (see Registry).
func (reg Registry) accepts(tok token) bool {
	if reg.Public {
		return tok.service == "ecr-public" && tok.region == publicRegion
	}
	return tok.service == "ecr" && tok.region == reg.Region && arnAccount(tok.principal) == reg.Account
}

// NewRegistryFront returns an ECR-like gate for reg in front of upstream, a
// registry that needs no auth. A request passes only with "Authorization:
// Basic base64(AWS:<password>)" for a token fake issued for reg (see
// Registry) and that has not expired by fake's clock; the header is dropped
// before forwarding. Any other request gets 401, a Basic challenge and a
// Docker-style errors body: a token issued for another principal or region
// gets the same answer as a password fake never issued. It panics when reg
// names no registry (a private one needs a 12-digit Account and a Region).
func NewRegistryFront(fake *Server, reg Registry, upstream *url.URL) http.Handler {
	if !reg.Public && (!isAccountID(reg.Account) || reg.Region == "") {
		panic("awsfake: NewRegistryFront: Registry needs a 12-digit Account and a Region, or Public")
	}
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(upstream)
		pr.Out.Host = pr.In.Host // so upstream builds URLs that come back here
		pr.Out.Header.Del("Authorization")
	}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch fake.checkAuthorization(r.Header.Get("Authorization"), reg.accepts) {
		case tokenValid:
			proxy.ServeHTTP(w, r)
		case tokenExpired:
			unauthorized(w, r, "Your authorization token has expired. Reauthenticate and try again.")
		default:
			unauthorized(w, r, "authentication required")
		}
	})
}

// registryError is one entry of the Docker registry errors body.
type registryError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// unauthorized sends the registry's 401 with a Basic challenge.
func unauthorized(w http.ResponseWriter, r *http.Request, msg string) {
	w.Header().Set("WWW-Authenticate", `Basic realm="https://`+r.Host+`/",service="ecr.amazonaws.com"`)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	w.WriteHeader(http.StatusUnauthorized)
	_ = json.NewEncoder(w).Encode(map[string][]registryError{
		"errors": {{Code: "UNAUTHORIZED", Message: msg}},
	})
}
