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

// parseCredentialScope reads the access key id and region from a SigV4
// header: "AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, …".
// The signature itself is not checked.
func parseCredentialScope(authorization string) (akid, region string) {
	_, rest, ok := strings.Cut(authorization, "Credential=")
	if !ok {
		return "", ""
	}
	scope, _, _ := strings.Cut(rest, ",")
	parts := strings.Split(strings.TrimSpace(scope), "/")
	if len(parts) != 5 {
		return "", ""
	}
	return parts[0], parts[2]
}

// identify fills in who signed the call: an issued session or an IAM user.
func (s *Server) identify(req *request) {
	c := &req.call
	if c.AccessKeyID == "" {
		return
	}
	if ses, ok := s.session(c.AccessKeyID); ok {
		c.Principal = ses.principal
		if !strings.HasPrefix(c.Action, "AssumeRole") {
			c.RoleArn = ses.roleArn
		}
		return
	}
	c.Principal = "arn:aws:iam::" + s.opts.account + ":user/awsfake"
}

// session returns the issued temporary key akid, if any.
func (s *Server) session(akid string) (session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ses, ok := s.state.keys[akid]
	return ses, ok
}

// authenticate refuses unsigned calls (but AssumeRoleWithWebIdentity), wrong
// or expired session tokens, and denied keys and roles.
func (s *Server) authenticate(req *request) *apiError {
	c := &req.call
	if c.AccessKeyID == "" && c.Action != "AssumeRoleWithWebIdentity" {
		return missingAuth(req.proto)
	}
	if ses, ok := s.session(c.AccessKeyID); ok {
		if req.sessionToken != ses.token {
			return invalidKey(req.proto)
		}
		if s.opts.expireKeys && !s.opts.now().Before(ses.expires) {
			return expiredToken()
		}
	}
	if s.denied(c) {
		return accessDenied(req.proto, c)
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

// invalidKey is AWS's answer to a temporary key with the wrong session token.
func invalidKey(p protocol) *apiError {
	if p == protoJSON {
		return &apiError{http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid."}
	}
	return &apiError{http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid."}
}
