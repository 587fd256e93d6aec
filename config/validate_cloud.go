package config

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/ocicred/ocicred/internal/cloudhost"
)

var (
	serviceAccountRE = lazyRegexp(`^[a-z0-9][a-z0-9._-]*@[a-z0-9-]+(\.[a-z0-9-]+)*\.gserviceaccount\.com$`)
	guidRE           = lazyRegexp(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	tenantDomainRE   = lazyRegexp(`^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$`)
	resourceIDRE     = lazyRegexp(`^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.managedidentity/userassignedidentities/[^/]+$`)
)

// Limits of a Google impersonation token's lifetime (IAM Credentials
// generateAccessToken: up to 1 h, or 12 h where the organisation allows).
const (
	MinImpersonationLifetime = time.Minute
	MaxImpersonationLifetime = 12 * time.Hour
)

// Azure clouds and their Entra ID authority hosts (azidentity's
// cloud.AzurePublic, AzureChina, AzureGovernment).
var azureClouds = map[string]string{
	"public": "https://login.microsoftonline.com/",
	"china":  "https://login.chinacloudapi.cn/",
	"usgov":  "https://login.microsoftonline.us/",
}

// AzureAuthority is the Entra ID authority host an acr registry's tokens
// come from, as a URL ending in "/": authorityHost when given, else the
// cloud's, else "" (the token source then honours AZURE_AUTHORITY_HOST and
// defaults to the public cloud).
func (r *Registry) AzureAuthority() string {
	if r.AuthorityHost != "" {
		return strings.TrimSuffix(r.AuthorityHost, "/") + "/"
	}
	return azureClouds[r.Cloud]
}

// credentialFields are the credentials fields of each registry type (the
// type field is everyone's).
var credentialFields = map[string][]string{
	TypeECR: {"roleArn", "externalId", "sessionName", "duration", "accessKeyId", "secretAccessKey",
		"secretAccessKeyFile", "secretAccessKeyEnv", "profile"},
	TypeGAR: {"keyFile", "keyEnv", "serviceAccount", "lifetime", "base", "configFile", "scopes"},
	TypeACR: {"clientId", "clientSecret", "clientSecretFile", "clientSecretEnv", "certificateFile",
		"certificatePasswordFile", "resourceId", "tokenFile"},
}

// cloudCredentialFields refuses credentials fields of another cloud than
// typ's.
func (v *checker) cloudCredentialFields(typ, p string) {
	for other, fields := range credentialFields {
		if other == typ {
			continue
		}
		for _, f := range fields {
			if v.has(p + "." + f) {
				v.errf(p+"."+f, "is a credentials field of type %s registries, not of %s; remove it", other, typ)
			}
		}
	}
}

// allowOnly refuses every field of typ's credentials outside allowed.
func (v *checker) allowOnly(typ, credType, p string, allowed ...string) {
	for _, f := range credentialFields[typ] {
		if v.has(p+"."+f) && !contains(allowed, f) {
			v.errf(p+"."+f, "does not apply to credentials type %s; remove it", credType)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (v *checker) gar(reg *Registry, p string) {
	if reg.Host != "" && !cloudhost.Google(reg.Host) && !cloudhost.Loopback(reg.Host) {
		v.errf(p+".endpoint", "is not a Google registry host (gcr.io, NAME.gcr.io, LOCATION-docker.pkg.dev, docker.LOCATION.rep.pkg.dev); ocicred sends Google access tokens to those hosts only, or to a mirror on this machine (localhost)")
	}
	if reg.Credentials == nil {
		reg.Credentials = &Credentials{Type: CredDefault}
		return
	}
	v.googleCredentials(reg.Credentials, p+".credentials", true)
}

func (v *checker) googleCredentials(c *Credentials, p string, top bool) {
	v.cloudCredentialFields(TypeGAR, p)
	switch c.Type {
	case CredServiceAccountKey:
		v.allowOnly(TypeGAR, c.Type, p, "keyFile", "keyEnv", "scopes")
		v.keySource(c, p)
	case CredImpersonate:
		if !top {
			v.errf(p+".type", "impersonate cannot be the base of impersonate; write serviceAccountKey, workloadIdentity or default")
			return
		}
		v.allowOnly(TypeGAR, c.Type, p, "serviceAccount", "lifetime", "base", "scopes")
		switch {
		case c.ServiceAccount == "":
			v.errf(p+".serviceAccount", "is required for impersonate: the email of the service account to act as, such as puller@PROJECT.iam.gserviceaccount.com")
		case !serviceAccountRE().MatchString(c.ServiceAccount):
			v.errf(p+".serviceAccount", "is not a service account email; write NAME@PROJECT.iam.gserviceaccount.com")
		}
		if d := c.Lifetime.Duration; v.has(p+".lifetime") && (d < MinImpersonationLifetime || d > MaxImpersonationLifetime) {
			v.errf(p+".lifetime", "must be from 1m to 12h (over 1h only where the organisation policy allows it)")
		}
		if c.Base == nil {
			c.Base = &Credentials{Type: CredDefault}
		} else {
			v.googleCredentials(c.Base, p+".base", false)
		}
	case CredWorkloadIdentity:
		v.allowOnly(TypeGAR, c.Type, p, "configFile", "scopes")
		switch {
		case c.ConfigFile == "":
			v.errf(p+".configFile", "is required for workloadIdentity: the external_account JSON file (gcloud iam workload-identity-pools create-cred-config)")
		case !filepath.IsAbs(c.ConfigFile):
			v.errf(p+".configFile", "must be an absolute path")
		}
	case CredDefault:
		v.allowOnly(TypeGAR, c.Type, p, "scopes")
	case "":
		v.errf(p+".type", "is required: write serviceAccountKey, impersonate, workloadIdentity or default")
		return
	default:
		v.errf(p+".type", "is not a credentials type of gar registries; write serviceAccountKey, impersonate, workloadIdentity or default")
		return
	}
	for i, s := range c.Scopes {
		if u, err := url.Parse(s); err != nil || u.Scheme != "https" || u.Host == "" {
			v.errf(fmt.Sprintf("%s.scopes[%d]", p, i), "is not an OAuth2 scope URL; write one such as %s", DefaultGoogleScope)
		}
	}
}

// keySource checks that exactly one of keyFile and keyEnv is given: a
// service account key is a JSON document, which does not belong inline.
func (v *checker) keySource(c *Credentials, p string) {
	switch {
	case c.KeyFile == "" && c.KeyEnv == "":
		v.errf(p+".keyFile", "is required for serviceAccountKey: write keyFile (the service_account JSON key) or keyEnv")
	case c.KeyFile != "" && c.KeyEnv != "":
		v.errf(p+".keyEnv", "keyFile and keyEnv are both given; keep exactly one")
	case c.KeyFile != "" && !filepath.IsAbs(c.KeyFile):
		v.errf(p+".keyFile", "must be an absolute path to the service_account JSON key")
	case c.KeyEnv != "" && !envNameRE().MatchString(c.KeyEnv):
		v.errf(p+".keyEnv", "is not an environment variable name: write the variable's name (such as %s), and put the key itself in the daemon's environment", envExample["key"])
	}
}

func (v *checker) acr(reg *Registry, p string) {
	if reg.Host != "" && !cloudhost.Azure(reg.Host) && !cloudhost.Loopback(reg.Host) && reg.AuthorityHost == "" {
		v.errf(p+".endpoint", "is not an Azure Container Registry login server (NAME.azurecr.io, .azurecr.cn, .azurecr.us); ocicred sends Entra ID tokens to those hosts only, to a mirror on this machine (localhost), or, with authorityHost, to a private cloud's registry")
	}
	if reg.TenantID != "" && !guidRE().MatchString(reg.TenantID) && !tenantDomainRE().MatchString(reg.TenantID) {
		v.errf(p+".tenantId", "is not a tenant: write its id (a GUID) or its domain, such as contoso.onmicrosoft.com")
	}
	if reg.Cloud != "" {
		if _, ok := azureClouds[reg.Cloud]; !ok {
			v.errf(p+".cloud", "is not an Azure cloud; write public, china or usgov, or give authorityHost")
		}
	}
	if reg.AuthorityHost != "" {
		u, err := url.Parse(reg.AuthorityHost)
		switch {
		case reg.Cloud != "":
			v.errf(p+".authorityHost", "cloud and authorityHost are both given; keep one")
		case err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "":
			v.errf(p+".authorityHost", "must be an https URL of an Entra ID authority, such as https://login.microsoftonline.com/")
		}
	}
	if reg.Credentials == nil {
		reg.Credentials = &Credentials{Type: CredDefault}
		return
	}
	v.azureCredentials(reg, reg.Credentials, p)
}

func (v *checker) azureCredentials(reg *Registry, c *Credentials, rp string) {
	p := rp + ".credentials"
	v.cloudCredentialFields(TypeACR, p)
	needTenant := func() {
		if reg.TenantID == "" {
			v.errf(rp+".tenantId", "is required for %s: the Entra ID tenant of the application (a GUID or its domain)", c.Type)
		}
	}
	switch c.Type {
	case CredClientSecret:
		v.allowOnly(TypeACR, c.Type, p, "clientId", "clientSecret", "clientSecretFile", "clientSecretEnv")
		needTenant()
		v.clientID(c, p, true)
		v.oneSecret(p, "clientSecret", !c.ClientSecret.IsZero(), c.ClientSecretFile, c.ClientSecretEnv)
	case CredClientCertificate:
		v.allowOnly(TypeACR, c.Type, p, "clientId", "certificateFile", "certificatePasswordFile")
		needTenant()
		v.clientID(c, p, true)
		switch {
		case c.CertificateFile == "":
			v.errf(p+".certificateFile", "is required for clientCertificate: a PEM file holding the certificate and its unencrypted private key, or a PKCS#12 file with certificatePasswordFile")
		case !filepath.IsAbs(c.CertificateFile):
			v.errf(p+".certificateFile", "must be an absolute path")
		}
		if c.CertificatePasswordFile != "" && !filepath.IsAbs(c.CertificatePasswordFile) {
			v.errf(p+".certificatePasswordFile", "must be an absolute path")
		}
	case CredManagedIdentity:
		v.allowOnly(TypeACR, c.Type, p, "clientId", "resourceId")
		v.clientID(c, p, false)
		switch {
		case c.ClientID != "" && c.ResourceID != "":
			v.errf(p+".resourceId", "clientId and resourceId are both given; name the user-assigned identity by one of them")
		case c.ResourceID != "" && !resourceIDRE().MatchString(strings.ToLower(c.ResourceID)):
			v.errf(p+".resourceId", "is not a user-assigned identity's resource id; write /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME")
		}
	case CredWorkloadIdentity:
		v.allowOnly(TypeACR, c.Type, p, "clientId", "tokenFile")
		v.clientID(c, p, false)
		if c.TokenFile != "" && !filepath.IsAbs(c.TokenFile) {
			v.errf(p+".tokenFile", "must be an absolute path (or leave it out to use AZURE_FEDERATED_TOKEN_FILE)")
		}
	case CredDefault:
		v.allowOnly(TypeACR, c.Type, p)
	case "":
		v.errf(p+".type", "is required: write clientSecret, clientCertificate, managedIdentity, workloadIdentity or default")
	default:
		v.errf(p+".type", "is not a credentials type of acr registries; write clientSecret, clientCertificate, managedIdentity, workloadIdentity or default")
	}
}

// clientID checks an application's (or identity's) client id.
func (v *checker) clientID(c *Credentials, p string, required bool) {
	switch {
	case c.ClientID == "" && required:
		v.errf(p+".clientId", "is required for %s: the application (client) id, a GUID", c.Type)
	case c.ClientID != "" && !guidRE().MatchString(c.ClientID):
		v.errf(p+".clientId", "is not a client id: write the application's id, a GUID such as 00000000-0000-0000-0000-000000000001")
	}
}
