package awsfake

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// webIdentityClaims are the JWT claims STS echoes back.
type webIdentityClaims struct {
	Subject  string          `json:"sub"`
	Issuer   string          `json:"iss"`
	Audience json.RawMessage `json:"aud"` // a string or a list of strings
}

// audience returns the token's (first) audience.
func (c webIdentityClaims) audience() string {
	var one string
	if json.Unmarshal(c.Audience, &one) == nil {
		return one
	}
	var many []string
	if json.Unmarshal(c.Audience, &many) == nil && len(many) > 0 {
		return many[0]
	}
	return ""
}

// jwtClaims decodes the payload of a JWT without checking its signature.
func jwtClaims(tok string) (webIdentityClaims, bool) {
	var c webIdentityClaims
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return c, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return c, false
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return webIdentityClaims{}, false
	}
	return c, true
}
