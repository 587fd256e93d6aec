package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocicred/ocicred/internal/kubeletplugin"
)

func TestKubeletCredentialProviderWithoutDaemon(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	writeFile(t, cfg, "registries:\n  - {name: h, type: basic, endpoint: \"http://127.0.0.1:5000\", username: u, password: pw-h}\n", 0o600)
	run := func(image string) (kubeletplugin.Response, string, int) {
		var out, errOut bytes.Buffer
		in := `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"` + image + `"}`
		code := Main(context.Background(), []string{"kubelet-credential-provider", "--config", cfg, "--socket", filepath.Join(dir, "none.sock")},
			strings.NewReader(in), &out, &errOut)
		var resp kubeletplugin.Response
		if code == 0 {
			if err := json.Unmarshal(out.Bytes(), &resp); err != nil {
				t.Fatalf("%s: %v: %s", image, err, out.Bytes())
			}
		}
		return resp, errOut.String(), code
	}
	resp, _, code := run("127.0.0.1:5000/team/app:v1")
	if code != 0 || resp.Auth["127.0.0.1:5000"].Password != "pw-h" || resp.CacheKeyType != "Registry" || resp.CacheDuration != "10m0s" {
		t.Errorf("managed image: %+v, exit %d", resp, code)
	}
	resp, _, code = run("quay.io/x/y")
	if code != 0 || len(resp.Auth) != 0 || resp.Kind != "CredentialProviderResponse" {
		t.Errorf("unmanaged image: %+v, exit %d", resp, code)
	}
}
