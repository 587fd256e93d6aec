package awsfake

import (
	"net/http"
	"strings"
	"time"
)

// session is a temporary key issued by AssumeRole*.
type session struct {
	secret, token string // never logged
	roleArn       string
	principal     string // the assumed-role session ARN
	userID        string
	expires       time.Time
}

// identify fills in who signed the call: an issued session or a registered
// long-term key. A call signed with a key the server does not know has no
// principal.
func (s *Server) identify(req *request) {
	c := &req.call
	if c.AccessKeyID == "" {
		return
	}
	key, ok := s.lookupKey(c.AccessKeyID)
	if ok {
		req.key = &key
	}
	switch {
	case !ok:
	case key.temporary:
		c.Principal = key.session.principal
		if !strings.HasPrefix(c.Action, "AssumeRole") {
			c.RoleArn = key.session.roleArn
		}
	default:
		c.Principal = "arn:aws:iam::" + s.opts.account + ":user/awsfake"
	}
}

// session returns the issued temporary key akid, if any.
func (s *Server) session(akid string) (session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ses, ok := s.state.keys[akid]
	return ses, ok
}

// authenticate refuses, in AWS's words: unsigned calls (but
// AssumeRoleWithWebIdentity), incomplete or mis-scoped signatures, unknown
// keys, temporary keys without their session token, signatures that do not
// verify with the key's secret, expired temporary keys (WithKeyExpiry), and
// denied keys and roles.
func (s *Server) authenticate(req *request) *apiError {
	c := &req.call
	if c.AccessKeyID == "" {
		if c.Action != "AssumeRoleWithWebIdentity" {
			return missingAuth(req.proto)
		}
		return s.checkDenied(req)
	}
	if aerr := checkScope(req.proto, req.signed, req.call.Service); aerr != nil {
		return aerr
	}
	key := req.key
	if key == nil || (key.temporary && req.sessionToken != key.session.token) {
		return invalidKey(req.proto)
	}
	if !verifySignature(req.signed, key.secret) {
		return badSignature(req.proto, signatureMismatch)
	}
	if key.temporary && s.opts.expireKeys && !s.opts.now().Before(key.session.expires) {
		return expiredToken()
	}
	return s.checkDenied(req)
}

// checkDenied refuses a call whose key or role is on a deny list.
func (s *Server) checkDenied(req *request) *apiError {
	if s.denied(&req.call) {
		return accessDenied(req.proto, &req.call)
	}
	return nil
}

// missingAuth is AWS's answer to an unsigned call.
func missingAuth(p protocol) *apiError {
	if p == protoJSON {
		return &apiError{http.StatusBadRequest, "MissingAuthenticationTokenException", "Missing Authentication Token"}
	}
	return &apiError{http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token"}
}

// invalidKey is AWS's answer to an access key id it does not know, and to a
// temporary key with the wrong session token.
func invalidKey(p protocol) *apiError {
	if p == protoJSON {
		return &apiError{http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid."}
	}
	return &apiError{http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid."}
}
