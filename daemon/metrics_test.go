package daemon

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/ocicred/ocicred/internal/localapi"
	"github.com/ocicred/ocicred/test/awsfake"
	"github.com/ocicred/ocicred/test/testenv"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// scrape reads the endpoint as an operator would, with curl (found by the
// test at its top with testenv.Tool).
func scrape(t *testing.T, curl, addr string) string {
	t.Helper()
	out, err := exec.Command(curl, "-fsS", "http://"+addr+"/metrics").Output()
	if err != nil {
		t.Fatalf("curl: %v", err)
	}
	return string(out)
}

// The metrics endpoint shows every series the daemon promises, with the
// real AWS SDK against the AWS stand-in, and never a secret.
func TestMetrics(t *testing.T) {
	curl := testenv.Tool(t, "curl")
	fake := awsfake.Start(t, awsfake.WithKey("AKIAIOSFODNN7EXAMPLE", "sk-for-metrics-test"),
		awsfake.WithKey("AKIAIOSFODNN7DENIED1", "sk-for-metrics-test"))
	fake.Setenv(t)
	t.Setenv("OCICRED_TEST_SK", "sk-for-metrics-test")
	addr := freeAddr(t)
	cfg := "metrics: " + addr + "\nregistries:\n" +
		basicConfig("local", "127.0.0.1:5000", "pw-metrics") +
		"  - name: prod\n    type: ecr\n    endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com\n" +
		"    credentials: {type: secret, accessKeyId: AKIAIOSFODNN7EXAMPLE, secretAccessKeyEnv: OCICRED_TEST_SK}\n" +
		"  - name: denied\n    type: ecr\n    endpoint: 210987654321.dkr.ecr.eu-west-1.amazonaws.com\n" +
		"    credentials: {type: secret, accessKeyId: AKIAIOSFODNN7DENIED1, secretAccessKeyEnv: OCICRED_TEST_SK}\n"
	fake.DenyAccessKey("AKIAIOSFODNN7DENIED1")
	td := startDaemon(t, cfg)
	if td.d.MetricsAddr() != addr {
		t.Fatalf("MetricsAddr = %q, want %q", td.d.MetricsAddr(), addr)
	}
	ctx := context.Background()
	helperClient := localapi.NewClient(td.socket)
	helperClient.Name = localapi.ClientHelper
	tok, err := helperClient.Credentials(ctx, "123456789012.dkr.ecr.us-west-2.amazonaws.com")
	if err != nil {
		t.Fatal(err)
	}
	kubelet := localapi.NewClient(td.socket)
	kubelet.Name = localapi.ClientKubelet
	if _, err := kubelet.Credentials(ctx, "127.0.0.1:5000"); err != nil {
		t.Fatal(err)
	}
	_, _ = kubelet.Credentials(ctx, "unknown.example")
	writeConfig(t, td.config, cfg+basicConfig("extra", "extra.example", "pw-extra"))
	td.d.Reload("test")

	td.ev.await(t, refreshFailed("denied"), 1) // counted before the hook hears of it
	out := scrape(t, curl, addr)
	for _, want := range []string{
		`ocicred_token_refreshes_total{reason="AccessDeniedException",registry="denied",result="failure"} `, // 1, or more after retries
		`ocicred_token_expiry_seconds{registry="prod"} 431`,
		`ocicred_token_refreshes_total{reason="",registry="prod",result="success"} 1`,
		`ocicred_aws_calls_total{api="ecr:GetAuthorizationToken",result="ok"} 1`,
		`ocicred_aws_calls_total{api="ecr:GetAuthorizationToken",result="error"}`,
		`ocicred_requests_total{client="helper",result="ok"} 1`,
		`ocicred_requests_total{client="kubelet",result="ok"} 1`,
		`ocicred_requests_total{client="kubelet",result="not_found"} 1`,
		`ocicred_request_duration_seconds_bucket{client="helper",le="`,
		`ocicred_config_reloads_total{result="applied"} 1`,
		`ocicred_build_info{commit="unknown",version="dev"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, secret := range []string{tok.Secret, "pw-metrics", "pw-extra", "sk-for-metrics-test"} {
		if strings.Contains(out, secret) {
			t.Errorf("metrics hold a secret")
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", out)
	}
}
