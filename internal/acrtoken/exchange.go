package acrtoken

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/secret"
)

// maxAnswer bounds an exchange answer; ACR refresh tokens are a few KB.
const maxAnswer = 1 << 20

// exchange trades an Entra ID token for reg's ACR refresh token at
// reg.ServerURL()/oauth2/exchange, the configured endpoint and never a
// host a challenge or a client named (GO-2026-6225), and reads its
// lifetime. The wire format is Azure/acr docs/AAD-OAuth.md's:
//
//	POST /oauth2/exchange  grant_type=access_token&service=HOST&tenant=TENANT&access_token=…
//	200 {"refresh_token":"<JWT with aud=HOST, iat, exp>"}
func (f *Fetcher) exchange(ctx context.Context, reg *config.Registry, tenant, entra string) (creds.Token, error) {
	form := url.Values{"grant_type": {"access_token"}, "service": {reg.Host}, "access_token": {entra}}
	if tenant != "" {
		form.Set("tenant", tenant)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, reg.ServerURL()+"/oauth2/exchange", strings.NewReader(form.Encode()))
	if err != nil {
		return creds.Token{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := f.exchangeClient.Do(req)
	if err != nil {
		return creds.Token{}, &exchangeError{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return creds.Token{}, &exchangeError{err: err}
	}
	received := f.now()
	if resp.StatusCode != http.StatusOK {
		return creds.Token{}, &exchangeError{status: resp.StatusCode, code: registryErrorCode(body), msg: registryErrorMessage(body)}
	}
	var answer struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || answer.RefreshToken == "" {
		return creds.Token{}, badToken(reg, "the exchange answer holds no refresh_token")
	}
	return refreshToken(reg, answer.RefreshToken, received)
}

// refreshToken reads an ACR refresh token's aud, iat and exp (its
// signature is the registry's business) and dates it by local receipt:
// ExpiresAt = received + (exp − iat), Skew = iat − received, so that a
// node whose clock differs from ACR's still refreshes in time.
func refreshToken(reg *config.Registry, tok string, received time.Time) (creds.Token, error) {
	claims, err := jwtClaims(tok)
	if err != nil {
		return creds.Token{}, badToken(reg, err.Error())
	}
	if !audienceIs(claims.Aud, reg.Host) {
		return creds.Token{}, badToken(reg, "the refresh token is for another registry (its aud is not "+reg.Host+")")
	}
	if claims.Iat == nil || claims.Exp == nil || *claims.Exp <= *claims.Iat {
		return creds.Token{}, badToken(reg, "the refresh token has no iat or exp, or expires when issued")
	}
	life := time.Duration(*claims.Exp-*claims.Iat) * time.Second
	return creds.Token{
		Password:  secret.New(tok),
		ExpiresAt: received.Add(life),
		Skew:      time.Unix(int64(*claims.Iat), 0).Sub(received),
	}, nil
}

// claims are the JWT claims acrtoken reads: ACR's refresh token's and
// Entra's tid.
type claims struct {
	Aud json.RawMessage `json:"aud"` // a string or a list of strings
	Iat *float64        `json:"iat"`
	Exp *float64        `json:"exp"`
	Tid string          `json:"tid"`
}

// jwtClaims decodes a JWT's payload without checking its signature.
func jwtClaims(tok string) (claims, error) {
	var c claims
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return c, errors.New("the token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return c, errors.New("the token's payload is not base64url")
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return claims{}, errors.New("the token's payload is not JSON claims")
	}
	return c, nil
}

// audienceIs reports whether aud (a string or a list) names host; a
// host:443 also matches its bare name.
func audienceIs(aud json.RawMessage, host string) bool {
	var list []string
	var one string
	if json.Unmarshal(aud, &one) == nil {
		list = []string{one}
	} else if json.Unmarshal(aud, &list) != nil {
		return false
	}
	bare := strings.TrimSuffix(host, ":443")
	for _, a := range list {
		if strings.EqualFold(a, host) || strings.EqualFold(a, bare) {
			return true
		}
	}
	return false
}

// tenantOf is the tid of an Entra token, "" when unreadable: the tenant
// sent to the exchange when the config names none (managed identity,
// default chain).
func tenantOf(entra string) string {
	c, err := jwtClaims(entra)
	if err != nil {
		return ""
	}
	return c.Tid
}

// exchangeError is a failed exchange: no answer (err), or ACR's status
// and its error's code and message.
type exchangeError struct {
	status    int
	code, msg string
	err       error
}

func (e *exchangeError) Error() string {
	if e.err != nil {
		return "ACR exchange: " + e.err.Error()
	}
	return fmt.Sprintf("ACR exchange: HTTP %d %s %s", e.status, e.code, e.msg)
}

func (e *exchangeError) Unwrap() error { return e.err }

// registryError is the Docker registry errors body ACR answers.
type registryError struct {
	Errors []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

func registryErrorCode(body []byte) string {
	var e registryError
	if json.Unmarshal(body, &e) == nil && len(e.Errors) > 0 {
		return e.Errors[0].Code
	}
	return ""
}

func registryErrorMessage(body []byte) string {
	var e registryError
	if json.Unmarshal(body, &e) == nil && len(e.Errors) > 0 {
		return oneLine(e.Errors[0].Message)
	}
	return ""
}
