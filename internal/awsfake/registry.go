package awsfake

import (
	"encoding/json"
	"net/http"
	"net/http/httputil"
	"net/url"
)

// NewRegistryFront returns an ECR-like gate in front of upstream, a registry
// that needs no auth. A request passes only with "Authorization: Basic
// base64(AWS:<password>)" for a token fake issued and that has not expired
// by fake's clock; the header is dropped before forwarding. Any other
// request gets 401, a Basic challenge and a Docker-style errors body.
func NewRegistryFront(fake *Server, upstream *url.URL) http.Handler {
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(upstream)
		pr.Out.Host = pr.In.Host // so upstream builds URLs that come back here
		pr.Out.Header.Del("Authorization")
	}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch fake.checkAuthorization(r.Header.Get("Authorization")) {
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
