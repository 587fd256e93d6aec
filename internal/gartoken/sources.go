package gartoken

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/ocicred/ocicred/config"
)

// Credential file types (the "type" field of Google's JSON files).
const (
	typeServiceAccount  = "service_account"
	typeExternalAccount = "external_account"
	typeAuthorizedUser  = "authorized_user"
	typeImpersonated    = "impersonated_service_account"
)

// token gets an access token of identity c for scopes. key is the
// registry's key, under which an impersonate identity's base token is kept.
func (f *Fetcher) token(ctx context.Context, key Key, c *config.Credentials, scopes []string) (accessToken, error) {
	switch c.Type {
	case config.CredServiceAccountKey:
		return f.keyToken(ctx, []byte(c.ServiceAccountKey().Reveal()), keySource(c), scopes)
	case config.CredWorkloadIdentity:
		return f.fileToken(ctx, c.ConfigFile, "configFile", scopes, typeExternalAccount)
	case config.CredImpersonate:
		return f.impersonateToken(ctx, key, c, scopes)
	case config.CredDefault, "":
		return f.defaultToken(ctx, scopes)
	}
	return accessToken{}, fail(KindBadCredentials, "", fmt.Sprintf("credentials type %q is not one of gar's", c.Type), nil)
}

// keySource says where c's key came from, for messages.
func keySource(c *config.Credentials) string {
	if c.KeyEnv != "" {
		return "$" + c.KeyEnv
	}
	return c.KeyFile
}

// keyToken gets a token by the JWT-bearer grant with a service_account
// key, at the key's token_uri. Only service_account keys are taken; the
// key's contents never reach a message.
func (f *Fetcher) keyToken(ctx context.Context, keyJSON []byte, where string, scopes []string) (accessToken, error) {
	var k struct {
		Type        string `json:"type"`
		ClientEmail string `json:"client_email"`
		PrivateKey  string `json:"private_key"`
	}
	switch {
	case len(keyJSON) == 0:
		return accessToken{}, fail(KindBadCredentials, "", "the service account key "+where+" is empty", nil)
	case json.Unmarshal(keyJSON, &k) != nil:
		return accessToken{}, fail(KindBadCredentials, "", "the service account key "+where+" is not JSON", nil)
	case k.Type != typeServiceAccount:
		return accessToken{}, fail(KindBadCredentials, "", fmt.Sprintf(
			"the key %s is of type %q, not a service_account key: serviceAccountKey takes only keys from `gcloud iam service-accounts keys create`", where, k.Type), nil)
	case k.ClientEmail == "":
		return accessToken{}, fail(KindBadCredentials, "", "the service account key "+where+" has no client_email", nil)
	case !isPrivateKey(k.PrivateKey):
		return accessToken{}, fail(KindBadCredentials, "", "the service account key "+where+" has no PEM RSA private_key", nil)
	}
	return f.libraryToken(ctx, "the token endpoint for "+k.ClientEmail, func(ctx context.Context) (*google.Credentials, error) {
		return google.CredentialsFromJSONWithTypeAndParams(ctx, keyJSON, google.ServiceAccount, google.CredentialsParams{Scopes: scopes})
	})
}

// isPrivateKey reports whether pemKey is a PEM RSA key in PKCS#8 or PKCS#1.
func isPrivateKey(pemKey string) bool {
	block, _ := pem.Decode([]byte(pemKey))
	if block == nil {
		return false
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		return true
	}
	_, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	return err == nil
}

// fileToken gets a token with the credentials file at path, which must be
// of one of the types allowed. origin names where the path came from.
func (f *Fetcher) fileToken(ctx context.Context, path, origin string, scopes []string, allowed ...string) (accessToken, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return accessToken{}, fail(KindBadCredentials, "", fmt.Sprintf("%s: cannot read %s", origin, path), err)
	}
	var head struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(data, &head) != nil {
		return accessToken{}, fail(KindBadCredentials, "", fmt.Sprintf("%s: %s is not JSON", origin, path), nil)
	}
	ok := false
	for _, a := range allowed {
		ok = ok || head.Type == a
	}
	if !ok {
		return accessToken{}, fail(KindBadCredentials, "", fmt.Sprintf("%s: %s is of type %q; it must be %v", origin, path, head.Type, allowed), nil)
	}
	switch head.Type {
	case typeServiceAccount:
		return f.keyToken(ctx, data, path, scopes)
	case typeExternalAccount:
		return f.libraryToken(ctx, "STS", func(ctx context.Context) (*google.Credentials, error) {
			return google.CredentialsFromJSONWithTypeAndParams(ctx, data, google.ExternalAccount, google.CredentialsParams{Scopes: scopes})
		})
	}
	return f.libraryToken(ctx, "Google's token endpoint", func(ctx context.Context) (*google.Credentials, error) {
		return google.CredentialsFromJSONWithTypeAndParams(ctx, data, google.CredentialsType(head.Type), google.CredentialsParams{Scopes: scopes})
	})
}

// libraryToken gets a token from the x/oauth2 credentials build makes,
// within ctx, and explains a failure by what the endpoints answered.
func (f *Fetcher) libraryToken(ctx context.Context, what string, build func(context.Context) (*google.Credentials, error)) (accessToken, error) {
	obs := f.newObserver()
	lctx := context.WithValue(ctx, oauth2.HTTPClient, httpClient(ctx, f.transport, obs))
	cr, err := build(lctx)
	if err != nil {
		return accessToken{}, fail(KindBadCredentials, "", oneLine(err.Error()), err)
	}
	tok, err := cr.TokenSource.Token()
	if err != nil {
		return accessToken{}, obs.explain(ctx, what, err)
	}
	at, err := f.fromOAuth2(tok, what)
	at.skew = obs.lastSkew()
	return at, err
}

// fromOAuth2 takes a library token: it must have a value and an end still
// ahead. The library counts expires_in on the wall clock; the rest of the
// token's life is carried over to the Fetcher's clock.
func (f *Fetcher) fromOAuth2(tok *oauth2.Token, what string) (accessToken, error) {
	switch {
	case tok.AccessToken == "":
		return accessToken{}, fail(KindBadAnswer, "", what+" answered no access_token", nil)
	case tok.Expiry.IsZero():
		return accessToken{}, fail(KindBadAnswer, "", what+" answered a token without expires_in (or expires_in 0)", nil)
	}
	left := time.Until(tok.Expiry)
	if left <= 0 {
		return accessToken{}, fail(KindBadAnswer, "", what+" answered a token that has already expired", nil)
	}
	return accessToken{value: tok.AccessToken, expires: f.now().Add(left)}, nil
}

// defaultToken follows Google's default chain: GOOGLE_APPLICATION_CREDENTIALS,
// then gcloud's well-known file, then the metadata server.
func (f *Fetcher) defaultToken(ctx context.Context, scopes []string) (accessToken, error) {
	adcTypes := []string{typeServiceAccount, typeExternalAccount, typeAuthorizedUser, typeImpersonated}
	if p := os.Getenv("GOOGLE_APPLICATION_CREDENTIALS"); p != "" {
		return f.fileToken(ctx, p, "GOOGLE_APPLICATION_CREDENTIALS", scopes, adcTypes...)
	}
	if p := wellKnownFile(); p != "" {
		if _, err := os.Stat(p); err == nil {
			return f.fileToken(ctx, p, "gcloud's application default credentials", scopes, adcTypes...)
		}
	}
	tok, err := f.metadataToken(ctx, scopes)
	var mf *metadataFailure
	if errors.As(err, &mf) && mf.absent {
		return accessToken{}, fail(KindNoCredentials, "", fmt.Sprintf(
			"looked in GOOGLE_APPLICATION_CREDENTIALS (unset), %s (absent) and the metadata server at %s (%s)",
			wellKnownFile(), mf.host, mf.why), err)
	}
	return tok, err
}

// wellKnownFile is where `gcloud auth application-default login` writes:
// $CLOUDSDK_CONFIG, else ~/.config/gcloud (%APPDATA%\gcloud on Windows).
func wellKnownFile() string {
	const name = "application_default_credentials.json"
	if dir := os.Getenv("CLOUDSDK_CONFIG"); dir != "" {
		return filepath.Join(dir, name)
	}
	if runtime.GOOS == "windows" {
		return filepath.Join(os.Getenv("APPDATA"), "gcloud", name)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".config", "gcloud", name)
}

// lifetimeOf is the lifetime impersonate asks for.
func lifetimeOf(c *config.Credentials) time.Duration {
	if c.Lifetime.Duration > 0 {
		return c.Lifetime.Duration
	}
	return DefaultLifetime
}
