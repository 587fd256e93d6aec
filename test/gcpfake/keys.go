package gcpfake

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
)

// Key is a service-account key the server issued: it verifies assertions
// signed with it by ID (the JWT header's kid) against its public half.
type Key struct {
	Email    string // the service account, client_email
	ID       string // private_key_id
	Project  string // project_id, taken from the email's domain
	private  *rsa.PrivateKey
	tokenURI string
}

// NewKey makes a 2048-bit RSA key for the service account email (e.g.
// "puller@proj.iam.gserviceaccount.com") and registers its public half, so
// that the token endpoint accepts assertions signed with it. It panics
// when no key can be generated.
func (s *Server) NewKey(email string) *Key {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(fmt.Sprintf("gcpfake: generate a key: %v", err))
	}
	project := "ocicred-test"
	if _, domain, ok := strings.Cut(email, "@"); ok {
		project, _, _ = strings.Cut(domain, ".")
	}
	k := &Key{Email: email, ID: randomHex(20), Project: project, private: priv, tokenURI: s.TokenURL()}
	s.mu.Lock()
	s.state.keys[k.ID] = k
	s.mu.Unlock()
	return k
}

// DeleteKey makes the server forget k, as deleting the key (or its
// service account) does: assertions signed with it fail with invalid_grant.
func (s *Server) DeleteKey(k *Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.state.keys, k.ID)
}

// keyFile is a service-account key file, as Google's console writes it.
type keyFile struct {
	Type                    string `json:"type"`
	ProjectID               string `json:"project_id"`
	PrivateKeyID            string `json:"private_key_id"`
	PrivateKey              string `json:"private_key"`
	ClientEmail             string `json:"client_email"`
	ClientID                string `json:"client_id"`
	AuthURI                 string `json:"auth_uri"`
	TokenURI                string `json:"token_uri"`
	AuthProviderX509CertURL string `json:"auth_provider_x509_cert_url"`
	ClientX509CertURL       string `json:"client_x509_cert_url"`
	UniverseDomain          string `json:"universe_domain"`
}

// JSON returns k as a service_account JSON key file whose token_uri is
// this server's token endpoint. It holds the private key: a secret.
func (k *Key) JSON() []byte {
	der := x509.MarshalPKCS1PrivateKey(k.private)
	kf := keyFile{
		Type:                    "service_account",
		ProjectID:               k.Project,
		PrivateKeyID:            k.ID,
		PrivateKey:              string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der})),
		ClientEmail:             k.Email,
		ClientID:                randomDigits(21),
		AuthURI:                 "https://accounts.google.com/o/oauth2/auth",
		TokenURI:                k.tokenURI,
		AuthProviderX509CertURL: "https://www.googleapis.com/oauth2/v1/certs",
		UniverseDomain:          "googleapis.com",
	}
	b, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}

// KeyJSON is k.JSON: a key file for NewKey's key.
func KeyJSON(k *Key) []byte { return k.JSON() }

// randomHex returns n random hex digits.
func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)[:n]
}

// randomDigits returns n random decimal digits.
func randomDigits(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}
