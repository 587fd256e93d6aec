package azfake

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
)

// app is an application registration (a service principal) in a tenant,
// with the credentials it may present.
type app struct {
	tenant, clientID string
	secret           string            // client secret; "" when none
	cert             *x509.Certificate // client certificate; nil when none
	federated        string            // the federated (workload identity) token; "" when none
}

// ManagedIdentity is a managed identity assigned to the (fake) machine.
// Its tokens are issued in Tenant, with oid and appid ClientID.
type ManagedIdentity struct {
	// System marks the system-assigned identity, which IMDS answers for
	// when the request names no identity.
	System bool
	// ClientID, ObjectID and ResourceID name a user-assigned identity
	// (client_id, object_id, msi_res_id); ClientID is also set for the
	// system-assigned one, as its appid.
	ClientID, ObjectID, ResourceID string
	// Tenant is the identity's tenant; "" means DefaultTenant.
	Tenant string
}

// AddClientSecret registers application clientID in tenant with a client
// secret.
func (s *Server) AddClientSecret(tenant, clientID, secret string) {
	s.addApp(&app{tenant: tenant, clientID: clientID, secret: secret})
}

// AddClientCertificate registers application clientID in tenant with a
// certificate: it may sign client assertions with the certificate's key.
func (s *Server) AddClientCertificate(tenant, clientID string, cert *x509.Certificate) {
	s.addApp(&app{tenant: tenant, clientID: clientID, cert: cert})
}

// AddFederated registers application clientID in tenant with a federated
// credential: a client assertion equal to token (the projected service
// account token a workload identity reads from its file) is accepted.
func (s *Server) AddFederated(tenant, clientID, token string) {
	s.addApp(&app{tenant: tenant, clientID: clientID, federated: token})
}

func (s *Server) addApp(a *app) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apps[a.tenant+"/"+a.clientID] = a
}

// AddManagedIdentity assigns mi to the machine.
func (s *Server) AddManagedIdentity(mi ManagedIdentity) {
	if mi.Tenant == "" {
		mi.Tenant = DefaultTenant
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.identities = append(s.identities, &mi)
}

// lookupApp returns the application clientID of tenant, nil when none.
func (s *Server) lookupApp(tenant, clientID string) *app {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apps[tenant+"/"+clientID]
}

// knownTenant reports whether any principal belongs to tenant.
func (s *Server) knownTenant(tenant string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.apps {
		if a.tenant == tenant {
			return true
		}
	}
	for _, mi := range s.identities {
		if mi.Tenant == tenant {
			return true
		}
	}
	return false
}

// lookupIdentity returns the managed identity a request names (by client
// id, object id or resource id; none: the system-assigned one), nil when
// the machine has no such identity.
func (s *Server) lookupIdentity(clientID, objectID, resourceID string) *ManagedIdentity {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, mi := range s.identities {
		switch {
		case clientID != "":
			if !mi.System && mi.ClientID == clientID {
				return mi
			}
		case objectID != "":
			if !mi.System && mi.ObjectID == objectID {
				return mi
			}
		case resourceID != "":
			if !mi.System && mi.ResourceID == resourceID {
				return mi
			}
		default:
			if mi.System {
				return mi
			}
		}
	}
	return nil
}

// NewCertificate makes a self-signed client certificate for commonName
// and its RSA key: the certificate, and the PEM of both (certificate then
// PKCS#8 key), as a certificateFile holds them.
func NewCertificate(commonName string) (*x509.Certificate, []byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("azfake: certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	out = append(out, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})...)
	return cert, out, nil
}

// randomString returns n random hex digits.
func randomString(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}
