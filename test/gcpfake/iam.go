package gcpfake

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// iamPrefix and iamSuffix frame generateAccessToken's path.
const (
	iamPrefix = "/v1/projects/-/serviceAccounts/"
	iamSuffix = ":generateAccessToken"
)

// googleError writes a Google API error answer ({"error":{code,message,status}})
// and returns its status name.
func googleError(w http.ResponseWriter, code int, status, msg string) string {
	writeJSON(w, code, map[string]any{"error": map[string]any{"code": code, "message": msg, "status": status}})
	return status
}

// googleWireError is the Google API answer to ServerError and ServiceUnavailable.
func googleWireError(w http.ResponseWriter, code int, msg string) string {
	status := "INTERNAL"
	if code == http.StatusServiceUnavailable {
		status = "UNAVAILABLE"
	}
	return googleError(w, code, status, msg)
}

// generateRequest and generateAnswer are generateAccessToken's bodies
// (https://cloud.google.com/iam/docs/reference/credentials/rest/v1/projects.serviceAccounts/generateAccessToken).
type generateRequest struct {
	Delegates []string `json:"delegates"`
	Scope     []string `json:"scope"`
	Lifetime  string   `json:"lifetime"`
}

type generateAnswer struct {
	AccessToken string `json:"accessToken"`
	ExpireTime  string `json:"expireTime"`
}

// serveIAM answers generateAccessToken: the caller's Bearer token must be
// one this server issued, unexpired, with the cloud-platform scope, and
// its principal must be allowed to impersonate the account
// (AllowImpersonation).
func (s *Server) serveIAM(w http.ResponseWriter, r *http.Request) {
	c := Call{Endpoint: EndpointIAM, Path: r.URL.Path, Time: s.opts.now()}
	c.Fault = s.takeFault(EndpointIAM)
	if !s.preFault(w, r, &c, googleWireError) {
		return
	}
	c.Status, c.Error = s.generate(w, r, &c)
	s.record(c)
}

// generate checks one generateAccessToken request and answers it.
func (s *Server) generate(w http.ResponseWriter, r *http.Request, c *Call) (int, string) {
	target, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, iamPrefix), iamSuffix)
	if !ok || target == "" || strings.Contains(target, "/") {
		return http.StatusNotFound, googleError(w, http.StatusNotFound, "NOT_FOUND", "Requested entity was not found.")
	}
	c.Target = target
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	caller, st := s.lookup(tok)
	if !strings.EqualFold(scheme, "Bearer") || st != tokenValid {
		return http.StatusUnauthorized, googleError(w, http.StatusUnauthorized, "UNAUTHENTICATED",
			"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.")
	}
	c.Principal = caller.principal
	if !hasScope(caller.scopes) {
		return http.StatusForbidden, googleError(w, http.StatusForbidden, "PERMISSION_DENIED",
			"Request had insufficient authentication scopes.")
	}
	var req generateRequest
	body, err := readBody(r)
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		return http.StatusBadRequest, googleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received.")
	}
	c.Scopes, c.Lifetime = req.Scope, req.Lifetime
	if !s.mayImpersonate(caller.principal, target) {
		return http.StatusForbidden, googleError(w, http.StatusForbidden, "PERMISSION_DENIED",
			"Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).")
	}
	if len(req.Scope) == 0 {
		return http.StatusBadRequest, googleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Scope required.")
	}
	life := time.Hour
	if req.Lifetime != "" {
		d, err := time.ParseDuration(req.Lifetime)
		if err != nil || !strings.HasSuffix(req.Lifetime, "s") || d <= 0 {
			return http.StatusBadRequest, googleError(w, http.StatusBadRequest, "INVALID_ARGUMENT",
				"Invalid value at 'lifetime' (type.googleapis.com/google.protobuf.Duration), Field 'lifetime', Illegal duration format")
		}
		life = d
	}
	if life > s.opts.maxLifetime {
		return http.StatusBadRequest, googleError(w, http.StatusBadRequest, "INVALID_ARGUMENT",
			"Lifetime must be between 1s and 3600s, or up to 43200s when constraints/iam.allowServiceAccountCredentialLifetimeExtension allows it.")
	}
	switch c.Fault {
	case ExpiredToken:
		life = 0
	case NearExpiry:
		life = nearExpiry
	}
	tok = s.issueToken(target, req.Scope, life)
	exp := s.opts.now().Add(life).UTC().Format(time.RFC3339)
	writeJSON(w, http.StatusOK, generateAnswer{AccessToken: tok, ExpireTime: exp})
	return http.StatusOK, ""
}
