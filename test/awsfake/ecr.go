package awsfake

import (
	"net/http"
	"strings"
	"time"
)

// defaultRegion is used when a call's credential scope has none.
const defaultRegion = "us-east-1"

// ecrAuthData is one element of ECR's authorizationData list.
type ecrAuthData struct {
	AuthorizationToken string  `json:"authorizationToken"`
	ExpiresAt          float64 `json:"expiresAt"`
	ProxyEndpoint      string  `json:"proxyEndpoint"`
}

// ecrPublicAuthData is ECR Public's single authorizationData.
type ecrPublicAuthData struct {
	AuthorizationToken string  `json:"authorizationToken"`
	ExpiresAt          float64 `json:"expiresAt"`
}

// ecrToken answers ECR GetAuthorizationToken: one fresh token per registry
// id asked for, or for the caller's own registry when none is.
func (s *Server) ecrToken(req *request) (any, *apiError) {
	ids := req.call.RegistryIDs
	if len(ids) == 0 {
		ids = []string{s.account(&req.call)}
	}
	data := make([]ecrAuthData, 0, len(ids))
	for _, id := range ids {
		if !isAccountID(id) {
			return nil, &apiError{http.StatusBadRequest, "InvalidParameterException",
				"Invalid parameter at 'registryIds' failed to satisfy constraint: 'Member must satisfy regular expression pattern: [0-9]{12}'"}
		}
		tok, exp := s.issueToken(req.call.Service, req.call.Principal, region(&req.call))
		data = append(data, ecrAuthData{tok, epochSeconds(exp), s.proxyEndpoint(id, region(&req.call))})
	}
	return map[string]any{"authorizationData": data}, nil
}

// ecrPublicToken answers ECR Public GetAuthorizationToken.
func (s *Server) ecrPublicToken(req *request) (any, *apiError) {
	tok, exp := s.issueToken(req.call.Service, req.call.Principal, region(&req.call))
	return map[string]any{"authorizationData": ecrPublicAuthData{tok, epochSeconds(exp)}}, nil
}

// proxyEndpoint is the registry URL ECR names for account in region.
func (s *Server) proxyEndpoint(account, region string) string {
	if s.opts.proxyEndpoint != "" {
		return s.opts.proxyEndpoint
	}
	return "https://" + account + ".dkr.ecr." + region + ".amazonaws.com"
}

// account is the caller's account: the assumed role's, or the configured one.
func (s *Server) account(c *Call) string {
	if strings.HasPrefix(c.Principal, "arn:aws:sts::") {
		return arnAccount(c.Principal)
	}
	return s.opts.account
}

// region is the call's signing region, or us-east-1 for unsigned calls.
func region(c *Call) string {
	if c.Region == "" {
		return defaultRegion
	}
	return c.Region
}

// epochSeconds is t as JSON epoch seconds with millisecond precision.
func epochSeconds(t time.Time) float64 {
	return float64(t.UnixMilli()) / 1000
}

// isAccountID reports whether id is twelve digits.
func isAccountID(id string) bool {
	if len(id) != 12 {
		return false
	}
	for _, r := range id {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// arnAccount returns the account field of an ARN, "" if there is none.
func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 {
		return ""
	}
	return parts[4]
}
