package azfake

import (
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// maxBody bounds request bodies; real ones are a few kilobytes.
const maxBody = 1 << 20

// assertionType is the client_assertion_type of certificate and federated
// assertions.
const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// entraError is Entra ID's error body (Azure/AKS#3109 shows one).
type entraError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Codes       []int  `json:"error_codes"`
	Timestamp   string `json:"timestamp"`
	TraceID     string `json:"trace_id"`
	Correlation string `json:"correlation_id"`
}

// serveEntra answers Entra ID's discovery and token endpoints.
func (s *Server) serveEntra(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && len(parts) == 3 && parts[0] == "common" && parts[1] == "discovery" && parts[2] == "instance":
		s.discovery(w, r)
	case r.Method == http.MethodGet && len(parts) == 4 && parts[1] == "v2.0" && parts[2] == ".well-known" && parts[3] == "openid-configuration":
		s.openID(w, r, parts[0])
	case r.Method == http.MethodPost && len(parts) == 4 && parts[1] == "oauth2" && parts[2] == "v2.0" && parts[3] == "token":
		s.token(w, r, parts[0])
	default:
		http.NotFound(w, r)
	}
}

// tokenEndpoint is the token URL of tenant, as the discovery document names it.
func (s *Server) tokenEndpoint(tenant string) string {
	return s.URL + "/" + tenant + "/oauth2/v2.0/token"
}

// discovery answers MSAL's instance discovery, which it sends to
// login.microsoftonline.com unless instance discovery is disabled
// (Transport routes it here, so a test sees it).
func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	c := Call{Endpoint: EndpointDiscovery, Method: r.Method}
	if f := s.takeFault(c.Endpoint); f == Hang {
		s.hang(r.Context(), c)
		return
	}
	tenant := "common"
	if ae := r.URL.Query().Get("authorization_endpoint"); ae != "" {
		if p := strings.Split(strings.TrimPrefix(ae, "https://"), "/"); len(p) > 1 {
			tenant = p[1]
		}
	}
	c.Status, c.Tenant = http.StatusOK, tenant
	s.record(c)
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": s.URL + "/" + tenant + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata": []map[string]any{{
			"preferred_network": s.Host(), "preferred_cache": s.Host(), "aliases": []string{s.Host()},
		}},
	})
}

// openID answers the tenant's discovery document. Its issuer names this
// server's host, which MSAL checks against the authority.
func (s *Server) openID(w http.ResponseWriter, r *http.Request, tenant string) {
	c := Call{Endpoint: EndpointOpenID, Method: r.Method, Tenant: tenant}
	f := s.takeFault(c.Endpoint)
	c.Fault = f
	if f == Hang {
		s.hang(r.Context(), c)
		return
	}
	if transientFault(w, f, &c, func(status int, code, desc string) { s.writeEntraError(w, status, code, desc) }) {
		s.record(c)
		return
	}
	if !s.knownTenant(tenant) {
		c.Status, c.Error = http.StatusBadRequest, "AADSTS90002"
		s.record(c)
		s.writeEntraError(w, c.Status, "invalid_tenant", fmt.Sprintf("AADSTS90002: Tenant '%s' not found.", tenant))
		return
	}
	c.Status = http.StatusOK
	s.record(c)
	base := s.URL + "/" + tenant
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"issuer":                                base + "/v2.0",
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"tenant_region_scope":                   "EU",
	})
}

// token answers the client-credentials grant with a secret, a certificate
// assertion or a federated assertion.
func (s *Server) token(w http.ResponseWriter, r *http.Request, tenant string) {
	c := Call{Endpoint: EndpointToken, Method: r.Method, Tenant: tenant}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		c.Status, c.Error = http.StatusBadRequest, "AADSTS900144"
		s.record(c)
		s.writeEntraError(w, c.Status, "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'grant_type'.")
		return
	}
	form := r.PostForm
	c.ClientID, c.Scope = form.Get("client_id"), form.Get("scope")
	switch {
	case form.Get("client_secret") != "":
		c.Assertion = "secret"
	case form.Get("client_assertion") != "":
		c.Assertion = "assertion"
	}
	f := s.takeFault(c.Endpoint)
	c.Fault = f
	if f == Hang {
		s.hang(r.Context(), c)
		return
	}
	fail := func(status int, code, desc string) {
		c.Status, c.Error = status, aadsts(desc, code)
		s.record(c)
		s.writeEntraError(w, status, code, desc)
	}
	if transientFault(w, f, &c, func(status int, code, desc string) { s.writeEntraError(w, status, code, desc) }) {
		s.record(c)
		return
	}
	if f == InvalidGrant {
		fail(http.StatusBadRequest, "invalid_grant", "AADSTS70000: The request was denied because one or more scopes requested are unauthorized or expired.")
		return
	}
	if g := form.Get("grant_type"); g != "client_credentials" {
		fail(http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("AADSTS70003: The app requested an unsupported grant type '%s'.", g))
		return
	}
	aud, ok := s.audienceOf(c.Scope)
	if !ok {
		fail(http.StatusBadRequest, "invalid_scope", fmt.Sprintf("AADSTS70011: The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", c.Scope))
		return
	}
	if !s.knownTenant(tenant) {
		fail(http.StatusBadRequest, "invalid_request", fmt.Sprintf("AADSTS90002: Tenant '%s' not found.", tenant))
		return
	}
	a := s.lookupApp(tenant, c.ClientID)
	if a == nil {
		fail(http.StatusBadRequest, "unauthorized_client", fmt.Sprintf("AADSTS700016: Application with identifier '%s' was not found in the directory '%s'.", c.ClientID, tenant))
		return
	}
	if status, code, desc := s.authenticate(a, form, &c); status != 0 {
		fail(status, code, desc)
		return
	}
	claims := jwt.MapClaims{"aud": aud, "iss": "https://sts.windows.net/" + tenant + "/", "tid": tenant,
		"oid": a.clientID, "appid": a.clientID, "sub": a.clientID, "azfake_kind": kindEntra}
	life := s.opts.entraLifetime
	s.times(claims, life, f == Expired)
	c.Status = http.StatusOK
	s.record(c)
	secs := int(life / time.Second)
	writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs,
		"access_token": s.sign(claims)})
}

// audienceOf is the audience of the token a scope list asks for: the ACR
// scope, or ARM's when WithARMScope allows it. MSAL adds openid, profile
// and offline_access.
func (s *Server) audienceOf(scope string) (string, bool) {
	aud := ""
	for _, sc := range strings.Fields(scope) {
		switch sc {
		case "openid", "profile", "offline_access":
		case ACRScope:
			if aud != "" {
				return "", false
			}
			aud = ACRAudience
		case ARMScope:
			if aud != "" || !s.opts.allowARMScope {
				return "", false
			}
			aud = ARMAudience
		default:
			return "", false
		}
	}
	return aud, aud != ""
}

// authenticate checks the credential app presented: a secret equal to the
// registered one, a certificate assertion signed by the registered
// certificate's key and within its time range, or a federated assertion
// equal to the registered token. It returns the refusal, status 0 when
// none.
func (s *Server) authenticate(a *app, form map[string][]string, c *Call) (int, string, string) {
	get := func(k string) string {
		if v := form[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if secret := get("client_secret"); secret != "" {
		c.Assertion = "secret"
		if a.secret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(a.secret)) != 1 {
			return http.StatusUnauthorized, "invalid_client", fmt.Sprintf("AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", a.clientID)
		}
		return 0, "", ""
	}
	assertion := get("client_assertion")
	if assertion == "" || get("client_assertion_type") != assertionType {
		return http.StatusBadRequest, "invalid_client", "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'."
	}
	switch {
	case a.cert != nil:
		c.Assertion = "certificate"
		return s.checkCertAssertion(a, assertion, s.tokenEndpoint(a.tenant))
	case a.federated != "":
		c.Assertion = "federated"
		if subtle.ConstantTimeCompare([]byte(assertion), []byte(a.federated)) != 1 {
			return http.StatusBadRequest, "invalid_client", "AADSTS70021: No matching federated identity record found for presented assertion."
		}
		return 0, "", ""
	}
	return http.StatusUnauthorized, "invalid_client", fmt.Sprintf("AADSTS700027: Client assertion failed signature validation: no certificate registered for app '%s'.", a.clientID)
}

// checkCertAssertion verifies a certificate assertion as Entra does: the
// thumbprint header names the registered certificate (x5t#S256 with PS256,
// x5t with RS256), its key signed it, aud is the token endpoint, iss and
// sub are the client id, and now is within [nbf, exp] give or take
// AssertionLeeway.
func (s *Server) checkCertAssertion(a *app, assertion, endpoint string) (int, string, string) {
	sum256, sum1 := sha256.Sum256(a.cert.Raw), sha1.Sum(a.cert.Raw)
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(assertion, claims, func(t *jwt.Token) (any, error) {
		switch t.Method.Alg() {
		case "PS256":
			if x, _ := t.Header["x5t#S256"].(string); !thumbprintIs(x, sum256[:]) {
				return nil, fmt.Errorf("x5t#S256 does not name a registered certificate")
			}
		case "RS256":
			if x, _ := t.Header["x5t"].(string); !thumbprintIs(x, sum1[:]) {
				return nil, fmt.Errorf("x5t does not name a registered certificate")
			}
		}
		pub, ok := a.cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("not an RSA certificate")
		}
		return pub, nil
	}, jwt.WithValidMethods([]string{"PS256", "RS256"}), jwt.WithoutClaimsValidation())
	if err != nil || !tok.Valid {
		return http.StatusUnauthorized, "invalid_client", fmt.Sprintf("AADSTS700027: Client assertion failed signature validation. (%v)", err)
	}
	if aud, _ := claims.GetAudience(); len(aud) != 1 || aud[0] != endpoint {
		return http.StatusBadRequest, "invalid_client", fmt.Sprintf("AADSTS700021: Client assertion application identifier doesn't match 'client_id' parameter, or its audience is not %s.", endpoint)
	}
	if str(claims, "iss") != a.clientID || str(claims, "sub") != a.clientID {
		return http.StatusBadRequest, "invalid_client", "AADSTS700023: Client assertion audience claim does not match Realm issuer."
	}
	nbf, _ := claims.GetNotBefore()
	exp, _ := claims.GetExpirationTime()
	now := s.now()
	if nbf == nil || exp == nil || now.Add(AssertionLeeway).Before(nbf.Time) || now.Add(-AssertionLeeway).After(exp.Time) {
		valid := "?"
		if nbf != nil && exp != nil {
			valid = fmt.Sprintf("assertion valid from %s, expiry time of assertion %s", nbf.UTC().Format(time.DateTime), exp.UTC().Format(time.DateTime))
		}
		return http.StatusBadRequest, "invalid_client", fmt.Sprintf("AADSTS700024: Client assertion is not within its valid time range. Current time: %s, %s.", now.UTC().Format(time.DateTime), valid)
	}
	return 0, "", ""
}

// thumbprintIs reports whether header value x (standard base64, as MSAL
// writes it; base64url accepted) is sum.
func thumbprintIs(x string, sum []byte) bool {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding, base64.URLEncoding} {
		if b, err := enc.DecodeString(x); err == nil && subtle.ConstantTimeCompare(b, sum) == 1 {
			return true
		}
	}
	return false
}

// aadsts extracts "AADSTSnnnn" from desc, or returns code.
func aadsts(desc, code string) string {
	if strings.HasPrefix(desc, "AADSTS") {
		if i := strings.IndexByte(desc, ':'); i > 0 {
			return desc[:i]
		}
	}
	return code
}

// writeEntraError writes Entra ID's error body.
func (s *Server) writeEntraError(w http.ResponseWriter, status int, code, desc string) {
	var codes []int
	if id := aadsts(desc, ""); id != "" {
		var n int
		if _, err := fmt.Sscanf(id, "AADSTS%d", &n); err == nil {
			codes = []int{n}
		}
	}
	writeJSON(w, status, entraError{Error: code, Description: desc + "\r\nTrace ID: " + randomString(8) + "\r\nTimestamp: " + s.now().UTC().Format(time.DateTime) + "Z",
		Codes: codes, Timestamp: s.now().UTC().Format(time.DateTime) + "Z", TraceID: randomString(32), Correlation: randomString(32)})
}

// writeJSON writes v as a JSON answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
