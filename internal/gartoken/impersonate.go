package gartoken

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/ocicred/ocicred/config"
)

// impersonateToken gets a token of the service account c names, asking
// IAM Credentials with the token of c's base identity.
func (f *Fetcher) impersonateToken(ctx context.Context, key Key, c *config.Credentials, scopes []string) (accessToken, error) {
	base, err := f.baseToken(ctx, key, baseOf(c))
	if err != nil {
		var fl *Failure
		if errors.As(err, &fl) {
			// Say whose token it was: the base identity's, not the
			// impersonated account's.
			return accessToken{}, &Failure{Kind: fl.Kind, Code: fl.Code, err: fl.err,
				Msg: "impersonate " + c.ServiceAccount + ": base " + describe(baseOf(c)) + ": " + fl.Msg}
		}
		return accessToken{}, err
	}
	tok, status, err := f.generateAccessToken(ctx, base.value, c.ServiceAccount, lifetimeOf(c), scopes)
	if status == http.StatusUnauthorized {
		// Google no longer takes the cached base token (revoked, or our
		// clock is behind): get a new one next time.
		f.mu.Lock()
		delete(f.bases, key)
		f.mu.Unlock()
	}
	return tok, err
}

// baseToken is the base identity's cloud-platform token: the one kept
// from an earlier fetch while it has more than baseMargin left, else a
// new one.
func (f *Fetcher) baseToken(ctx context.Context, key Key, base *config.Credentials) (accessToken, error) {
	f.mu.Lock()
	tok, ok := f.bases[key]
	f.mu.Unlock()
	if ok && tok.expires.Sub(f.now()) > baseMargin {
		return tok, nil
	}
	tok, err := f.token(ctx, key, base, []string{config.DefaultGoogleScope})
	if err != nil {
		return accessToken{}, err
	}
	f.mu.Lock()
	f.bases[key] = tok
	f.mu.Unlock()
	return tok, nil
}

// generateRequest and generateAnswer are IAM Credentials' bodies
// (cloud.google.com/iam/docs/reference/credentials/rest/v1/projects.serviceAccounts/generateAccessToken).
type generateRequest struct {
	Lifetime string   `json:"lifetime"`
	Scope    []string `json:"scope"`
}

type generateAnswer struct {
	AccessToken string `json:"accessToken"`
	ExpireTime  string `json:"expireTime"`
}

// generateAccessToken asks IAM Credentials for a token of email, with the
// caller's access token. It returns the HTTP status (0 without an answer).
func (f *Fetcher) generateAccessToken(ctx context.Context, caller, email string, lifetime time.Duration, scopes []string) (accessToken, int, error) {
	what := "IAM Credentials generateAccessToken for " + email
	body, err := json.Marshal(generateRequest{Lifetime: fmt.Sprintf("%ds", int64(lifetime/time.Second)), Scope: scopes})
	if err != nil {
		return accessToken{}, 0, err
	}
	u := f.iamURL + "/v1/projects/-/serviceAccounts/" + url.PathEscape(email) + ":generateAccessToken"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return accessToken{}, 0, fail(KindBadCredentials, "", what+": "+oneLine(err.Error()), err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+caller)
	obs := f.newObserver()
	resp, err := httpClient(ctx, f.transport, obs).Do(req)
	if err != nil {
		return accessToken{}, 0, obs.explain(ctx, what, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil {
		return accessToken{}, resp.StatusCode, obs.explain(ctx, what, err)
	}
	if resp.StatusCode != http.StatusOK {
		return accessToken{}, resp.StatusCode, explainAnswer(what, resp.StatusCode, data, nil, "")
	}
	var a generateAnswer
	if json.Unmarshal(data, &a) != nil || a.AccessToken == "" {
		return accessToken{}, resp.StatusCode, fail(KindBadAnswer, "", what+" answered no accessToken", nil)
	}
	exp, err := time.Parse(time.RFC3339, a.ExpireTime)
	if err != nil {
		return accessToken{}, resp.StatusCode, fail(KindBadAnswer, "", what+" answered no expireTime", nil)
	}
	// expireTime is by Google's clock: move it to ours.
	skew := obs.lastSkew()
	exp = exp.Add(-skew)
	if !exp.After(f.now()) {
		return accessToken{}, resp.StatusCode, fail(KindBadAnswer, "", what+" answered a token that has already expired", nil)
	}
	return accessToken{value: a.AccessToken, expires: exp, skew: skew}, resp.StatusCode, nil
}
