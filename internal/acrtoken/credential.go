package acrtoken

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/ocicred/ocicred/config"
)

// Scope is what the Entra ID token is asked for: the ACR audience. The
// legacy ARM audience fails on registries that disable it
// (kubernetes-sigs/cloud-provider-azure#8592).
const Scope = "https://containerregistry.azure.net/.default"

// imdsHost is IMDS's address, a constant in azidentity.
const imdsHost = "169.254.169.254"

// credential is one identity's azidentity credential, and a fingerprint
// of the files it was built from (a certificate rotated on disk is a new
// credential).
type credential struct {
	cred     azcore.TokenCredential
	material [sha256.Size]byte
}

// clientOptions are the options every credential of reg gets: the
// authority (authorityHost, else the cloud's; azidentity falls back to
// AZURE_AUTHORITY_HOST, then the public cloud) and the Fetcher's
// transport and retries.
func (f *Fetcher) clientOptions(reg *config.Registry) azcore.ClientOptions {
	return azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: reg.AzureAuthority()},
		Transport: f.client,
		Retry:     f.retry,
	}
}

// newCredential builds the azidentity credential of reg's identity. Files
// (certificate, its password) are read now; material fingerprints them.
func (f *Fetcher) newCredential(reg *config.Registry) (credential, error) {
	c := credentialsOf(reg)
	co := f.clientOptions(reg)
	noDisc := reg.DisableInstanceDiscovery
	var cred azcore.TokenCredential
	var err error
	var material [sha256.Size]byte
	switch c.Type {
	case config.CredClientSecret:
		if c.ClientSecretValue().IsZero() {
			return credential{}, noCredentials(reg, errors.New("the client secret is empty"))
		}
		cred, err = azidentity.NewClientSecretCredential(reg.TenantID, c.ClientID, c.ClientSecretValue().Reveal(),
			&azidentity.ClientSecretCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: noDisc})
	case config.CredClientCertificate:
		var pemBytes, password []byte
		pemBytes, password, material, err = readCertificate(c)
		if err != nil {
			return credential{}, err
		}
		certs, key, perr := azidentity.ParseCertificates(pemBytes, password)
		if perr != nil {
			return credential{}, &Failure{Kind: KindBadCertificate, Msg: fmt.Sprintf("%s: certificateFile %s: %s; %s",
				KindBadCertificate, c.CertificateFile, oneLine(perr.Error()), advice(KindBadCertificate)), err: perr}
		}
		cred, err = azidentity.NewClientCertificateCredential(reg.TenantID, c.ClientID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: noDisc})
	case config.CredManagedIdentity:
		o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: co}
		switch {
		case c.ClientID != "":
			o.ID = azidentity.ClientID(c.ClientID)
		case c.ResourceID != "":
			o.ID = azidentity.ResourceID(c.ResourceID)
		}
		cred, err = azidentity.NewManagedIdentityCredential(o)
	case config.CredWorkloadIdentity:
		if err := tokenFileReadable(c.TokenFile); err != nil {
			return credential{}, noCredentials(reg, err)
		}
		cred, err = azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: co, ClientID: c.ClientID, TenantID: reg.TenantID, TokenFilePath: c.TokenFile,
			DisableInstanceDiscovery: noDisc})
	case config.CredDefault:
		cred, err = azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
			ClientOptions: co, TenantID: reg.TenantID, DisableInstanceDiscovery: noDisc})
	default:
		return credential{}, &Failure{Kind: KindNoCredentials, Msg: fmt.Sprintf("%s: credentials type %q is not an acr type; write clientSecret, clientCertificate, managedIdentity, workloadIdentity or default", KindNoCredentials, c.Type)}
	}
	if err != nil {
		return credential{}, noCredentials(reg, err)
	}
	return credential{cred: cred, material: material}, nil
}

// readCertificate reads a clientCertificate's PEM file and its password
// file, and fingerprints both.
func readCertificate(c *config.Credentials) (pemBytes, password []byte, sum [sha256.Size]byte, err error) {
	pemBytes, err = config.ReadSecretFile(c.CertificateFile)
	if err != nil {
		return nil, nil, sum, &Failure{Kind: KindBadCertificate, Msg: fmt.Sprintf("%s: cannot read certificateFile: %s; %s",
			KindBadCertificate, oneLine(err.Error()), advice(KindBadCertificate)), err: err}
	}
	if c.CertificatePasswordFile != "" {
		password, err = config.ReadSecretFile(c.CertificatePasswordFile)
		if err != nil {
			return nil, nil, sum, &Failure{Kind: KindBadCertificate, Msg: fmt.Sprintf("%s: cannot read certificatePasswordFile: %s; %s",
				KindBadCertificate, oneLine(err.Error()), advice(KindBadCertificate)), err: err}
		}
		password = []byte(strings.TrimRight(string(password), "\r\n"))
	}
	h := sha256.New()
	h.Write(pemBytes)
	h.Write([]byte{0})
	h.Write(password)
	copy(sum[:], h.Sum(nil))
	return pemBytes, password, sum, nil
}

// currentMaterial fingerprints the files reg's credential is built from
// now (zero for types without files), so that a rotated certificate is
// loaded again.
func currentMaterial(reg *config.Registry) ([sha256.Size]byte, error) {
	c := credentialsOf(reg)
	if c.Type != config.CredClientCertificate {
		return [sha256.Size]byte{}, nil
	}
	_, _, sum, err := readCertificate(c)
	return sum, err
}

// newTransport is the production transport: Go's default, except that
// IMDS is never reached through a proxy. azidentity's default transport
// sends IMDS calls to HTTP(S)_PROXY unless NO_PROXY names 169.254.169.254,
// and they fail there (terricain/certbot-dns-azure#54,
// Azure/azure-sdk-for-net#18967).
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = noIMDSProxy(http.ProxyFromEnvironment)
	return t
}

// noIMDSProxy wraps a proxy function so that requests to IMDS go direct.
func noIMDSProxy(next func(*http.Request) (*url.URL, error)) func(*http.Request) (*url.URL, error) {
	return func(r *http.Request) (*url.URL, error) {
		if r.URL.Hostname() == imdsHost {
			return nil, nil
		}
		return next(r)
	}
}

// tokenFileReadable checks that workload identity's token file (path, else
// AZURE_FEDERATED_TOKEN_FILE) can be read, so that a missing one is said
// as missing credentials rather than as azidentity's flattened error.
func tokenFileReadable(path string) error {
	if path == "" {
		path = os.Getenv("AZURE_FEDERATED_TOKEN_FILE")
	}
	if path == "" {
		return errors.New("no tokenFile, and AZURE_FEDERATED_TOKEN_FILE is not set")
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("the federated token file: %w", err)
	}
	return f.Close()
}
