package awsfake

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Limits on AssumeRole's DurationSeconds.
const (
	minSessionSeconds     = 900
	maxSessionSeconds     = 43200
	maxChainedSessionSecs = 3600 // role chaining caps sessions at one hour
)

type stsCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string
	SessionToken    string
	Expiration      string
}

type assumedRoleUser struct {
	Arn           string
	AssumedRoleID string `xml:"AssumedRoleId"`
}

type assumeRoleResult struct {
	XMLName         xml.Name `xml:"AssumeRoleResult"`
	Credentials     stsCredentials
	AssumedRoleUser assumedRoleUser
}

type webIdentityResult struct {
	XMLName                     xml.Name `xml:"AssumeRoleWithWebIdentityResult"`
	SubjectFromWebIdentityToken string   `xml:",omitempty"`
	Audience                    string   `xml:",omitempty"`
	AssumedRoleUser             assumedRoleUser
	Credentials                 stsCredentials
	Provider                    string `xml:",omitempty"`
}

type callerIdentityResult struct {
	XMLName xml.Name `xml:"GetCallerIdentityResult"`
	Arn     string
	UserID  string `xml:"UserId"`
	Account string
}

// assumeRole answers sts:AssumeRole with fresh temporary keys.
func (s *Server) assumeRole(req *request) (any, *apiError) {
	limit := maxSessionSeconds
	if strings.HasPrefix(req.call.Principal, "arn:aws:sts::") {
		limit = maxChainedSessionSecs
	}
	if aerr := checkAssumeRole(&req.call, limit); aerr != nil {
		return nil, aerr
	}
	creds, user := s.issueSession(&req.call)
	return assumeRoleResult{Credentials: creds, AssumedRoleUser: user}, nil
}

// assumeRoleWithWebIdentity answers sts:AssumeRoleWithWebIdentity. The
// token must look like a JWT; its claims fill in subject, audience, provider.
func (s *Server) assumeRoleWithWebIdentity(req *request) (any, *apiError) {
	if aerr := checkAssumeRole(&req.call, maxSessionSeconds); aerr != nil {
		return nil, aerr
	}
	claims, ok := jwtClaims(req.form.Get("WebIdentityToken"))
	if !ok {
		return nil, &apiError{http.StatusBadRequest, "InvalidIdentityToken", "Couldn't parse the web identity token."}
	}
	creds, user := s.issueSession(&req.call)
	return webIdentityResult{
		SubjectFromWebIdentityToken: claims.Subject,
		Audience:                    claims.audience(),
		AssumedRoleUser:             user,
		Credentials:                 creds,
		Provider:                    claims.Issuer,
	}, nil
}

// getCallerIdentity answers sts:GetCallerIdentity for the signing key.
func (s *Server) getCallerIdentity(req *request) (any, *apiError) {
	res := callerIdentityResult{Arn: req.call.Principal, Account: s.account(&req.call)}
	if ses, ok := s.session(req.call.AccessKeyID); ok {
		res.UserID = ses.userID
	} else {
		res.UserID = "AIDA" + stableID(req.call.AccessKeyID)
	}
	return res, nil
}

// checkAssumeRole validates the parameters AssumeRole* share.
func checkAssumeRole(c *Call, maxSeconds int) *apiError {
	if !isRoleArn(c.RoleArn) {
		return validation(fmt.Sprintf("%s is invalid", c.RoleArn))
	}
	if n := len(c.RoleSessionName); n < 2 || n > 64 || strings.Trim(c.RoleSessionName, sessionNameChars) != "" {
		return validation("1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: " +
			"Member must satisfy regular expression pattern: [\\w+=,.@-]*")
	}
	if d := c.DurationSeconds; d != 0 && (d < minSessionSeconds || d > maxSeconds) {
		return validation(fmt.Sprintf("The requested DurationSeconds %d is outside %d..%d.", d, minSessionSeconds, maxSeconds))
	}
	return nil
}

const sessionNameChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+=,.@-"

// isRoleArn reports whether arn looks like arn:aws:iam::<12 digits>:role/<name>.
func isRoleArn(arn string) bool {
	parts := strings.SplitN(arn, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[2] == "iam" &&
		isAccountID(parts[4]) && strings.HasPrefix(parts[5], "role/") && len(parts[5]) > len("role/")
}

// issueSession makes and remembers temporary keys for the role in c.
func (s *Server) issueSession(c *Call) (stsCredentials, assumedRoleUser) {
	d := DefaultSessionDuration
	if c.DurationSeconds != 0 {
		d = time.Duration(c.DurationSeconds) * time.Second
	}
	roleName := c.RoleArn[strings.LastIndex(c.RoleArn, "/")+1:]
	user := assumedRoleUser{
		Arn:           "arn:aws:sts::" + arnAccount(c.RoleArn) + ":assumed-role/" + roleName + "/" + c.RoleSessionName,
		AssumedRoleID: "AROA" + stableID(c.RoleArn) + ":" + c.RoleSessionName,
	}
	expires := s.opts.now().Add(d).UTC().Truncate(time.Second)
	akid := "ASIA" + randomKeyID()
	ses := session{secret: randomString(30), token: randomString(300), roleArn: c.RoleArn,
		principal: user.Arn, userID: user.AssumedRoleID, expires: expires}
	s.mu.Lock()
	s.state.keys[akid] = ses
	s.mu.Unlock()
	return stsCredentials{akid, ses.secret, ses.token, expires.Format(time.RFC3339)}, user
}

// randomKeyID returns the 16 random characters [A-Z2-7] of an access key id.
func randomKeyID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return base32.StdEncoding.EncodeToString(b[:])
}

// stableID derives a 17-character unique-id body from s.
func stableID(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base32.StdEncoding.EncodeToString(sum[:])[:17]
}
