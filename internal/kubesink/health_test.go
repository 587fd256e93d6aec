package kubesink

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ocicred/ocicred/test/kubetest"
)

// /readyz answers once the informers have synced, /healthz while the Lease
// is renewed, and /metrics shows this replica leading and its writes.
func TestHealthEndpoints(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	src := newFakeSource(nil)
	h := startSink(t, src, func(o *Options) { o.Listener = ln })
	ns := kubetest.Namespace(t, h.cs, "health", pull)
	src.set(parseSnapshot(t, h.kube("  namespaceSelector: ocicred.io/pull=true\n")+basicOnly, nil))
	h.hasEntry(t, 5*time.Second, ns, harborHost, "basic-pw")
	get := func(path string) (int, string, error) {
		resp, err := http.Get(base + path)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	for _, path := range []string{"/readyz", "/healthz"} {
		kubetest.Eventually(t, 5*time.Second, path, func() error {
			code, body, err := get(path)
			if err != nil || code != http.StatusOK || body != "ok" {
				return fmt.Errorf("%d %q %v", code, body, err)
			}
			return nil
		})
	}
	kubetest.Eventually(t, 5*time.Second, "/metrics", func() error {
		_, body, err := get("/metrics")
		if err != nil {
			return err
		}
		for _, want := range []string{"ocicred_kube_leader 1", `ocicred_kube_secret_writes_total{result="ok",verb="create"}`} {
			if !strings.Contains(body, want) {
				return fmt.Errorf("no %s", want)
			}
		}
		return nil
	})
}
