// Package regcheck proves that credentials work against a registry: it
// calls the registry's /v2/ the way a client does, following a Basic or a
// Bearer challenge (with the token endpoint exchange) through
// go-containerregistry's transport.
package regcheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/localfile"
)

// Timeout bounds one check.
const Timeout = 20 * time.Second

// Check calls reg's /v2/ with user and password (anonymously when user is
// empty) and returns nil when the registry accepts them.
func Check(ctx context.Context, reg *config.Registry, user, password string) error {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	var opts []name.Option
	if reg.Scheme == "http" {
		opts = append(opts, name.Insecure)
	}
	r, err := name.NewRegistry(reg.Host, opts...)
	if err != nil {
		return fmt.Errorf("endpoint: %w", err)
	}
	base, err := baseTransport(reg)
	if err != nil {
		return err
	}
	if reg.Type == config.TypeGAR || reg.Type == config.TypeACR {
		base = sameHost{host: reg.Host, next: base}
	}
	auth := authn.Anonymous
	if user != "" {
		auth = authn.FromConfig(authn.AuthConfig{Username: user, Password: password})
	}
	// NewWithContext pings /v2/ and answers its challenge (Basic, or Bearer
	// through the token endpoint); a refused login fails here.
	rt, err := transport.NewWithContext(ctx, r, auth, base, []string{})
	if err != nil {
		return explain(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, reg.Scheme+"://"+reg.Host+"/v2/", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return explain(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	switch resp.StatusCode {
	case http.StatusOK:
		return nil
	case http.StatusUnauthorized:
		return errors.New("the registry rejected the credentials (401 Unauthorized)")
	}
	return fmt.Errorf("GET /v2/ answered %s with these credentials", resp.Status)
}

// ErrForeignRealm: a registry's challenge sent the client to another host
// than the configured endpoint.
var ErrForeignRealm = errors.New("the registry's challenge points at another host")

// sameHost refuses every request to another host than the configured
// one: a gar or acr registry's Bearer challenge is followed only to its
// own host, so that a cloud token never goes where a challenge says
// (spec, "Other clouds"; GO-2026-6225).
type sameHost struct {
	host string
	next http.RoundTripper
}

func (s sameHost) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != s.host {
		return nil, fmt.Errorf("%w (%s, not %s); ocicred sends gar and acr credentials to the configured endpoint only", ErrForeignRealm, req.URL.Host, s.host)
	}
	return s.next.RoundTrip(req)
}

// maxCAFile bounds a CA bundle, in bytes: the system bundle is about 200 KiB.
const maxCAFile = 4 << 20

// baseTransport honours the registry's tls settings.
func baseTransport(reg *config.Registry) (http.RoundTripper, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if reg.TLS == nil {
		return t, nil
	}
	t.TLSClientConfig = &tls.Config{InsecureSkipVerify: reg.TLS.InsecureSkipVerify} //nolint:gosec // the user asked for it
	if reg.TLS.CA != "" {
		pem, err := localfile.Rules{Limit: maxCAFile, Timeout: config.FileTimeout}.Read(reg.TLS.CA)
		if err != nil {
			return nil, fmt.Errorf("tls.ca: %s: %w", reg.TLS.CA, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca: %s holds no PEM certificate", reg.TLS.CA)
		}
		t.TLSClientConfig.RootCAs = pool
	}
	return t, nil
}

// explain turns a registry error into what went wrong from the user's view.
func explain(err error) error {
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusUnauthorized:
			return fmt.Errorf("the registry rejected the credentials (401 Unauthorized)")
		case http.StatusForbidden:
			return fmt.Errorf("the registry refused access (403 Forbidden)")
		}
	}
	return err
}
