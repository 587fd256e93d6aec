package gcpfake

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxBody bounds request bodies; real ones are a few kilobytes.
const maxBody = 1 << 20

// JWT-bearer grant type (RFC 7523), as the token endpoint requires it.
const jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// Google's error descriptions, as its token endpoint words them.
const (
	// SkewDescription is invalid_grant's text for an assertion outside its
	// time window (googleapis/google-api-php-client#1501).
	SkewDescription = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim."
	badSignature    = "Invalid JWT Signature."
	accountNotFound = "Invalid grant: account not found"
)

// oauthError writes an OAuth2 error answer, as Google's token endpoint and
// STS send them, and returns its code.
func oauthError(w http.ResponseWriter, status int, code, desc string) string {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
	return code
}

// oauthWireError is the OAuth2 answer to ServerError and ServiceUnavailable.
func oauthWireError(w http.ResponseWriter, status int, msg string) string {
	code := "internal_failure"
	if status == http.StatusServiceUnavailable {
		code = "temporarily_unavailable"
	}
	return oauthError(w, status, code, msg)
}

// writeJSON sends v as a JSON answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// tokenAnswer is the token endpoint's (and the metadata server's) answer.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// jwtHeader and jwtClaims are the parts of an assertion the endpoint reads.
type jwtHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
	Kid string `json:"kid"`
}

type jwtClaims struct {
	Iss   string `json:"iss"`
	Scope string `json:"scope"`
	Aud   string `json:"aud"`
	Sub   string `json:"sub"`
	Iat   int64  `json:"iat"`
	Exp   int64  `json:"exp"`
}

// serveToken answers the JWT-bearer grant at /token (Google's
// https://oauth2.googleapis.com/token): it checks the assertion as Google
// does and issues an access token for the key's service account.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	c := Call{Endpoint: EndpointToken, Path: r.URL.Path, Time: s.opts.now()}
	c.Fault = s.takeFault(EndpointToken)
	if !s.preFault(w, r, &c, oauthWireError) {
		return
	}
	status, code := s.grant(w, r, &c)
	c.Status, c.Error = status, code
	s.record(c)
}

// grant checks one token request and answers it; it returns the status
// and the error code sent.
func (s *Server) grant(w http.ResponseWriter, r *http.Request, c *Call) (int, string) {
	if err := r.ParseForm(); err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return http.StatusBadRequest, oauthError(w, http.StatusBadRequest, "invalid_request", "Invalid request: a form body is required.")
	}
	if gt := r.PostForm.Get("grant_type"); gt != jwtBearer {
		return http.StatusBadRequest, oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+gt)
	}
	claims, key, desc := s.verifyAssertion(r.PostForm.Get("assertion"))
	if desc != "" {
		return http.StatusBadRequest, oauthError(w, http.StatusBadRequest, "invalid_grant", desc)
	}
	c.Principal = key.Email
	c.Scopes = strings.Fields(claims.Scope)
	now := s.opts.now()
	// Google's window: an hour at most, issued no later than a minute
	// ahead of its clock, and not expired.
	if claims.Exp-claims.Iat > 3600 || claims.Exp <= claims.Iat ||
		time.Unix(claims.Iat, 0).After(now.Add(time.Minute)) || !time.Unix(claims.Exp, 0).After(now) {
		return http.StatusBadRequest, oauthError(w, http.StatusBadRequest, "invalid_grant", SkewDescription)
	}
	if c.Fault == InvalidGrant {
		return http.StatusBadRequest, oauthError(w, http.StatusBadRequest, "invalid_grant", SkewDescription)
	}
	if len(c.Scopes) == 0 {
		return http.StatusBadRequest, oauthError(w, http.StatusBadRequest, "invalid_scope",
			"Invalid OAuth scope or ID token audience provided.")
	}
	life := s.lifetimeFor(c.Fault)
	tok := s.issueToken(key.Email, c.Scopes, life)
	writeJSON(w, http.StatusOK, tokenAnswer{AccessToken: tok, ExpiresIn: int64(life / time.Second), TokenType: "Bearer"})
	return http.StatusOK, ""
}

// verifyAssertion checks a JWS as Google does: RS256, signed by a key
// this server issued (by kid) for the service account it names as iss,
// addressed to this token endpoint. It returns a description of what is
// wrong, "" when nothing is.
func (s *Server) verifyAssertion(assertion string) (jwtClaims, *Key, string) {
	var hdr jwtHeader
	var claims jwtClaims
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return claims, nil, "Invalid JWT: the assertion is not a JWS."
	}
	if !decodePart(parts[0], &hdr) || !decodePart(parts[1], &claims) {
		return claims, nil, "Invalid JWT: the header or the claims are not JSON."
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || hdr.Alg != "RS256" {
		return claims, nil, badSignature
	}
	s.mu.Lock()
	key := s.state.keys[hdr.Kid]
	s.mu.Unlock()
	if key == nil || key.Email != claims.Iss {
		return claims, nil, accountNotFound
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&key.private.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return claims, nil, badSignature
	}
	if claims.Aud != s.TokenURL() {
		return claims, nil, "Invalid JWT: Failed audience check. The expected value was " + s.TokenURL()
	}
	return claims, key, ""
}

// decodePart decodes one base64url JSON part of a JWS into v.
func decodePart(part string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(part, "="))
	if err != nil {
		return false
	}
	return json.Unmarshal(b, v) == nil
}

// readBody reads a request body up to maxBody.
func readBody(r *http.Request) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r.Body, maxBody))
}
