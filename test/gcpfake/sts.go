package gcpfake

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Token-exchange values (RFC 8693) STS requires.
const (
	tokenExchange   = "urn:ietf:params:oauth:grant-type:token-exchange"
	accessTokenType = "urn:ietf:params:oauth:token-type:access_token"
)

// Subject is a subject token the test registered with STS: the token
// itself (what the external_account file's credential source yields),
// the workload identity pool provider it is for (Audience, as
// "//iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/R"),
// its type (SubjectTokenType, e.g. urn:ietf:params:oauth:token-type:jwt),
// and the federated principal STS issues the token to.
type Subject struct {
	Token            string
	Audience         string
	SubjectTokenType string
	Principal        string
}

// RegisterSubject makes STS accept sub. The token is a secret: it is
// never logged nor recorded.
func (s *Server) RegisterSubject(sub Subject) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.subjects[sub.Token] = sub
}

// stsAnswer is STS's answer.
type stsAnswer struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
}

// serveSTS answers POST /v1/token (https://sts.googleapis.com/v1/token),
// as a form or a JSON body: it checks the grant, the requested token type,
// and that the subject token is one registered for that audience and type.
func (s *Server) serveSTS(w http.ResponseWriter, r *http.Request) {
	c := Call{Endpoint: EndpointSTS, Path: r.URL.Path, Time: s.opts.now()}
	c.Fault = s.takeFault(EndpointSTS)
	if !s.preFault(w, r, &c, oauthWireError) {
		return
	}
	c.Status, c.Error = s.exchange(w, r, &c)
	s.record(c)
}

// exchange checks one STS request and answers it.
func (s *Server) exchange(w http.ResponseWriter, r *http.Request, c *Call) (int, string) {
	bad := func(code, desc string) (int, string) {
		return http.StatusBadRequest, oauthError(w, http.StatusBadRequest, code, desc)
	}
	form, enc, err := stsParams(r)
	c.Encoding = enc
	if err != nil {
		return bad("invalid_request", "Invalid request body.")
	}
	if gt := form.Get("grant_type"); gt != tokenExchange {
		return bad("unsupported_grant_type", "Invalid value for \"grant_type\": "+gt)
	}
	if rt := form.Get("requested_token_type"); rt != accessTokenType {
		return bad("invalid_request", "Invalid value for \"requested_token_type\": "+rt)
	}
	s.mu.Lock()
	sub, ok := s.state.subjects[form.Get("subject_token")]
	s.mu.Unlock()
	switch {
	case form.Get("audience") == "" || (ok && form.Get("audience") != sub.Audience):
		return bad("invalid_target", "The target service indicated by the \"audience\" parameters is invalid.")
	case form.Get("subject_token_type") == "" || (ok && form.Get("subject_token_type") != sub.SubjectTokenType):
		return bad("invalid_request", "Invalid value for \"subject_token_type\".")
	case !ok:
		return bad("invalid_grant", "The given subject token is invalid or has been revoked.")
	case c.Fault == InvalidGrant:
		return bad("invalid_grant", "The subject token has expired or is not yet valid.")
	}
	c.Principal = sub.Principal
	c.Scopes = strings.Fields(form.Get("scope"))
	life := s.lifetimeFor(c.Fault)
	tok := s.issueToken(sub.Principal, c.Scopes, life)
	writeJSON(w, http.StatusOK, stsAnswer{AccessToken: tok, IssuedTokenType: accessTokenType,
		TokenType: "Bearer", ExpiresIn: int64(life / time.Second)})
	return http.StatusOK, ""
}

// stsParams reads an STS request's parameters from a form or a JSON body
// (GKE's kubelet plugin sends JSON) and says which it was.
func stsParams(r *http.Request) (url.Values, string, error) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		body, err := readBody(r)
		if err != nil {
			return nil, "json", err
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, "json", err
		}
		v := url.Values{}
		for k, val := range m {
			if str, ok := val.(string); ok {
				v.Set(k, str)
			}
		}
		return v, "json", nil
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		return nil, "form", err
	}
	return r.PostForm, "form", nil
}
