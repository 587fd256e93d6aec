package acrtoken

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/ocicred/ocicred/config"
)

// Username is the user name clients send with an ACR refresh token: the
// null GUID, which tells ACR the password is a refresh token (Azure/acr
// docs/AAD-OAuth.md).
const Username = config.UserACR

// Key names what makes two registries share one token: the same Entra ID
// identity and the same registry host, since an ACR refresh token is bound
// to the registry that issued it (its aud). It is "acr:" and 32 hex
// digits of a SHA-256, never a secret in clear.
type Key string

// identity names an Entra ID identity, whatever registry it signs in to:
// the Fetcher keeps one azidentity credential (and so one cached Entra
// token) per identity.
type identity string

// identityOf hashes what makes an identity: the credentials config (the
// client secret included, so that a rotated secret is a new identity),
// the tenant and the authority.
func identityOf(reg *config.Registry) identity {
	c := credentialsOf(reg)
	h := sha256.New()
	fmt.Fprintf(h, "type=%s\x00client=%s\x00secret=%s\x00cert=%s\x00certpw=%s\x00res=%s\x00tokenfile=%s\x00",
		c.Type, c.ClientID, c.ClientSecretValue().Reveal(), c.CertificateFile, c.CertificatePasswordFile, c.ResourceID, c.TokenFile)
	fmt.Fprintf(h, "tenant=%s\x00authority=%s\x00nodiscovery=%t", reg.TenantID, reg.AzureAuthority(), reg.DisableInstanceDiscovery)
	return identity(hex.EncodeToString(h.Sum(nil)))
}

// KeyOf is reg's key: its identity and its registry host.
func KeyOf(reg *config.Registry) Key {
	h := sha256.New()
	fmt.Fprintf(h, "identity=%s\x00host=%s", identityOf(reg), strings.ToLower(reg.Host))
	return Key("acr:" + hex.EncodeToString(h.Sum(nil))[:32])
}

// credentialsOf is reg's credentials, the default chain when none.
func credentialsOf(reg *config.Registry) *config.Credentials {
	if reg.Credentials == nil {
		return &config.Credentials{Type: config.CredDefault}
	}
	return reg.Credentials
}

// Describe names reg's identity for logs and status without any secret:
// "clientSecret 1111… in tenant T for contoso.azurecr.io".
func Describe(reg *config.Registry) string {
	c := credentialsOf(reg)
	who := c.Type
	switch c.Type {
	case config.CredClientSecret, config.CredClientCertificate:
		who += " " + c.ClientID
	case config.CredManagedIdentity:
		switch {
		case c.ClientID != "":
			who += " clientId " + c.ClientID
		case c.ResourceID != "":
			who += " resourceId " + c.ResourceID
		default:
			who += " system-assigned"
		}
	case config.CredWorkloadIdentity:
		if c.ClientID != "" {
			who += " " + c.ClientID
		} else {
			who += " AZURE_CLIENT_ID"
		}
	case config.CredDefault:
		who += " chain"
	}
	if reg.TenantID != "" {
		who += " in tenant " + reg.TenantID
	}
	return who + " for " + reg.Host
}
