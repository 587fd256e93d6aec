package azfake

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Paths of the managed-identity endpoints on IMDSURL.
const (
	imdsPath       = "/metadata/identity/oauth2/token"
	appServicePath = "/msi/token"
)

// serveIMDS answers IMDS's token endpoint and App Service's.
func (s *Server) serveIMDS(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == imdsPath && r.Method == http.MethodGet:
		s.managedIdentity(w, r, EndpointIMDS)
	case r.URL.Path == appServicePath && r.Method == http.MethodGet:
		s.managedIdentity(w, r, EndpointAppService)
	default:
		http.NotFound(w, r)
	}
}

// managedIdentity answers a token request for a managed identity, as IMDS
// does (Metadata: true, api-version, resource, client_id | object_id |
// msi_res_id; numbers as strings) or as App Service does (X-IDENTITY-HEADER,
// mi_res_id).
func (s *Server) managedIdentity(w http.ResponseWriter, r *http.Request, endpoint string) {
	q := r.URL.Query()
	resID := q.Get("msi_res_id")
	if endpoint == EndpointAppService {
		resID = q.Get("mi_res_id")
	}
	c := Call{Endpoint: endpoint, Method: r.Method, ClientID: q.Get("client_id"), ResourceID: resID, Scope: q.Get("resource")}
	f := s.takeFault(endpoint)
	c.Fault = f
	if f == Hang {
		s.hang(r.Context(), c)
		return
	}
	fail := func(status int, code, desc string) {
		c.Status, c.Error = status, code
		s.record(c)
		writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
	}
	if transientFault(w, f, &c, func(status int, code, desc string) {
		writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
	}) {
		s.record(c)
		return
	}
	if f == InvalidGrant {
		fail(http.StatusBadRequest, "invalid_request", "Identity not found")
		return
	}
	if endpoint == EndpointIMDS && r.Header.Get("Metadata") != "true" {
		fail(http.StatusBadRequest, "invalid_request", "Required metadata header not specified")
		return
	}
	if endpoint == EndpointAppService && subtle.ConstantTimeCompare([]byte(r.Header.Get("X-IDENTITY-HEADER")), []byte(s.identityHdr)) != 1 {
		fail(http.StatusUnauthorized, "unauthorized", "X-IDENTITY-HEADER is missing or wrong")
		return
	}
	if q.Get("api-version") == "" {
		fail(http.StatusBadRequest, "invalid_request", "Required query variable 'api-version' is missing")
		return
	}
	aud := strings.TrimSuffix(c.Scope, "/")
	if aud != ACRAudience && (aud != ARMAudience || !s.opts.allowARMScope) {
		fail(http.StatusBadRequest, "invalid_resource", "AADSTS500011: The resource principal named "+c.Scope+" was not found in the tenant.")
		return
	}
	mi := s.lookupIdentity(c.ClientID, q.Get("object_id"), resID)
	if mi == nil {
		// IMDS's answer for an identity not assigned to the machine.
		fail(http.StatusBadRequest, "invalid_request", "Identity not found")
		return
	}
	claims := jwt.MapClaims{"aud": aud, "iss": "https://sts.windows.net/" + mi.Tenant + "/", "tid": mi.Tenant,
		"oid": mi.ClientID, "appid": mi.ClientID, "sub": mi.ClientID, "xms_mirid": mi.ResourceID, "azfake_kind": kindEntra}
	life := s.opts.miLifetime
	iat := s.times(claims, life, f == Expired)
	c.Status = http.StatusOK
	s.record(c)
	secs := strconv.Itoa(int(life / time.Second))
	writeJSON(w, http.StatusOK, map[string]string{
		"access_token":   s.sign(claims),
		"client_id":      mi.ClientID,
		"expires_in":     secs,
		"expires_on":     strconv.FormatInt(iat.Add(life).Unix(), 10),
		"ext_expires_in": secs,
		"not_before":     strconv.FormatInt(iat.Unix(), 10),
		"resource":       c.Scope,
		"token_type":     "Bearer",
	})
}
