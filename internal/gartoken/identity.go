package gartoken

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ocicred/ocicred/config"
)

// Username is the user name that goes with a Google access token, the one
// Google documents (cloud.google.com/artifact-registry/docs/docker/authentication,
// "Access token"). docker-credential-gcr's unversioned "_dcgcr__token" is
// refused by Artifact Registry; this one never is.
const Username = "oauth2accesstoken"

// Key names the identity a token belongs to. Google access tokens are
// bound to an identity and its scopes, not to a registry: one token serves
// gcr.io, eu.gcr.io, LOCATION-docker.pkg.dev and docker.LOCATION.rep.pkg.dev
// alike, so registries with equal keys share one fetch. It is "gar:"
// followed by 32 hex digits of a SHA-256; no secret is readable from it.
type Key string

// KeyOf is reg's key: a hash over its credentials config (the key JSON
// included, so that a rotated key is a new identity; the base identity of
// impersonate; the scopes, sorted; the path of a workloadIdentity file,
// not its contents, which hold no secret) and never over the registry's
// host.
func KeyOf(reg *config.Registry) Key {
	h := sha256.New()
	writeIdentity(h, credentialsOf(reg), 0)
	return Key("gar:" + hex.EncodeToString(h.Sum(nil))[:32])
}

// writeIdentity writes what makes c an identity to h.
func writeIdentity(h io.Writer, c *config.Credentials, depth int) {
	scopes := slices.Sorted(slices.Values(scopesOf(c)))
	fmt.Fprintf(h, "depth=%d\x00type=%s\x00key=%s\x00sa=%s\x00life=%s\x00file=%s\x00scopes=%s\x00",
		depth, c.Type, c.ServiceAccountKey().Reveal(), c.ServiceAccount, lifetimeOf(c), c.ConfigFile,
		strings.Join(scopes, " "))
	if c.Type == config.CredImpersonate {
		writeIdentity(h, baseOf(c), depth+1)
	}
}

// credentialsOf is reg's credentials; none means the default chain.
func credentialsOf(reg *config.Registry) *config.Credentials {
	if reg.Credentials == nil {
		return &config.Credentials{Type: config.CredDefault}
	}
	return reg.Credentials
}

// baseOf is who impersonates for c; none means the default chain.
func baseOf(c *config.Credentials) *config.Credentials {
	if c.Base == nil {
		return &config.Credentials{Type: config.CredDefault}
	}
	return c.Base
}

// scopesOf is the scopes c asks for: the configured ones, or cloud-platform.
func scopesOf(c *config.Credentials) []string {
	if len(c.Scopes) == 0 {
		return []string{config.DefaultGoogleScope}
	}
	return c.Scopes
}

// Describe names reg's identity for logs and status, without any secret:
// "serviceAccountKey puller@p.iam.gserviceaccount.com",
// "impersonate puller@p.iam.gserviceaccount.com as default chain",
// "workloadIdentity /etc/ocicred/wif.json", "default chain".
func Describe(reg *config.Registry) string {
	return describe(credentialsOf(reg))
}

func describe(c *config.Credentials) string {
	switch c.Type {
	case config.CredServiceAccountKey:
		who := "serviceAccountKey"
		if email := keyEmail(c.ServiceAccountKey().Reveal()); email != "" {
			who += " " + email
		}
		switch {
		case c.KeyFile != "":
			who += " (" + c.KeyFile + ")"
		case c.KeyEnv != "":
			who += " ($" + c.KeyEnv + ")"
		}
		return who
	case config.CredImpersonate:
		return "impersonate " + c.ServiceAccount + " as " + describe(baseOf(c))
	case config.CredWorkloadIdentity:
		return "workloadIdentity " + c.ConfigFile
	case config.CredDefault:
		return "default chain"
	}
	return c.Type
}

// keyEmail is the client_email of a key JSON, "" when there is none. The
// email is no secret; the rest of the key is never looked at here.
func keyEmail(keyJSON string) string {
	var k struct {
		ClientEmail string `json:"client_email"`
	}
	if json.Unmarshal([]byte(keyJSON), &k) != nil {
		return ""
	}
	return k.ClientEmail
}
