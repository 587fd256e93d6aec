package ecrtoken

import (
	"encoding/pem"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// With AWS_CA_BUNDLE set, every identity's SDK config uses the Fetcher's
// one client, which trusts the bundle: calls over TLS to an endpoint only
// the bundle vouches for succeed, and no identity keeps a client (a pool,
// connections) of its own.
func TestCABundleReadOnce(t *testing.T) {
	fake := startFake(t)
	target, err := url.Parse(fake.URL)
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewTLSServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host // the signature covers the host the SDK signed for
	}})
	t.Cleanup(front.Close)
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	block := &pem.Block{Type: "CERTIFICATE", Bytes: front.Certificate().Raw}
	if err := os.WriteFile(bundle, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CA_BUNDLE", bundle)
	t.Setenv("AWS_ENDPOINT_URL_ECR", front.URL)

	f := NewFetcher()
	regs := registries(t, `registries:
  - {name: a, type: ecr, endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com,
     credentials: {type: secret, accessKeyId: `+testKeyID+`, secretAccessKey: `+testSecret+`}}
  - {name: b, type: ecr, endpoint: 123456789012.dkr.ecr.eu-west-1.amazonaws.com,
     credentials: {type: secret, accessKeyId: `+envKeyID+`, secretAccessKey: `+envSecret+`}}
`)
	for _, reg := range regs {
		if _, err := f.Fetch(testCtx(t), reg); err != nil {
			t.Fatalf("%s over TLS with the bundle: %v", reg.Name, err)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.clients) != 2 {
		t.Fatalf("%d identities kept, want 2", len(f.clients))
	}
	for k, cfg := range f.clients {
		if cfg.HTTPClient != f.HTTPClient {
			t.Errorf("identity %s has a client of its own (%T): the bundle parsed again, a pool and connections per identity", k, cfg.HTTPClient)
		}
	}
}
