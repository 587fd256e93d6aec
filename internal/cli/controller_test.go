package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"

	"github.com/ocicred/ocicred/internal/kubesink"
	"github.com/ocicred/ocicred/test/awsfake"
	"github.com/ocicred/ocicred/test/azfake"
	"github.com/ocicred/ocicred/test/gcpfake"
	"github.com/ocicred/ocicred/test/kubetest"
)

// cliAzure is the Entra ID stand-in of this package's tests: azidentity
// trusts a TLS authority through the system roots only, which Go reads
// once per process from SSL_CERT_FILE, so the fake starts, and the
// variable is set, before any test runs.
var cliAzure *azfake.Server

func TestMain(m *testing.M) {
	// klog's logger is process-wide and unguarded: set it before any test
	// runs client-go, as a real process does at start (routeKlog).
	routeKlog(slog.New(slog.DiscardHandler))
	var err error
	if cliAzure, err = azfake.New(azfake.WithLogger(slog.New(slog.DiscardHandler))); err != nil {
		fmt.Fprintln(os.Stderr, "start the Azure stand-in:", err)
		os.Exit(1)
	}
	os.Setenv("SSL_CERT_FILE", cliAzure.CAFile)
	code := m.Run()
	cliAzure.Close()
	kubetest.Stop()
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer that the controller's log writes to while
// the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// kubeRun is `ocicred controller` run in this process (cli.Main) against
// the test cluster with the admin token, a Lease of its own, and short
// election timings.
type kubeRun struct {
	cs     kubernetes.Interface
	secret string
	lease  string // the Lease's namespace
	log    *syncBuffer
}

// runController writes cfg (its kubernetes section is added here) and
// runs the controller until the test ends.
//
// It selects the namespaces labelled group=<r.lease>: unique per run
// (-count), as is the Secret's name.
func runController(t *testing.T, registries string) *kubeRun {
	t.Helper()
	cl := kubetest.Start(t)
	cs := cl.Admin(t)
	r := &kubeRun{cs: cs, lease: kubetest.Namespace(t, cs, "lease", nil), log: &syncBuffer{}}
	r.secret = "pull-" + r.lease
	selector := "group=" + r.lease
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	body := fmt.Sprintf("kubernetes:\n  secretName: %s\n  namespaceSelector: %q\n  leaderElection: {namespace: %s, name: ocicred}\n%s",
		r.secret, selector, r.lease, registries)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	args := []string{"controller", "--config", cfg, "--kubeconfig", cl.Kubeconfig(t, dir, kubetest.AdminToken), "--listen", "",
		"--lease-duration", "3s", "--renew-deadline", "2s", "--retry-period", "200ms", "--log-level", "debug"}
	go func() { done <- Main(ctx, args, strings.NewReader(""), r.log, r.log) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("controller exit %d", code)
		}
		if t.Failed() {
			t.Log(r.log.String())
		}
	})
	return r
}

// auths is ns's Secret's entries; nil and no error when there is no Secret.
func (r *kubeRun) auths(ns string) (map[string]map[string]string, *corev1.Secret, error) {
	s, err := r.cs.CoreV1().Secrets(ns).Get(context.Background(), r.secret, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var dc struct {
		Auths map[string]map[string]string `json:"auths"`
	}
	err = json.Unmarshal(s.Data[corev1.DockerConfigJsonKey], &dc)
	return dc.Auths, s, err
}

// password waits for ns's Secret to have an entry for host and returns it.
func (r *kubeRun) password(t *testing.T, within time.Duration, ns, host string) string {
	t.Helper()
	var pw string
	kubetest.Eventually(t, within, "an entry for "+host+" in "+ns, func() error {
		auths, _, err := r.auths(ns)
		if err != nil {
			return err
		}
		if a, ok := auths[host]; ok && a["password"] != "" {
			pw = a["password"]
			return nil
		}
		return fmt.Errorf("entries %v", auths)
	})
	return pw
}

const (
	kubeBasicHost = "harbor.example.com:8443"
	kubeBasic     = `  - name: harbor
    type: basic
    endpoint: ` + kubeBasicHost + `
    username: robot
    passwordEnv: OCICRED_CLI_TEST_BASIC
`
	kubeBasicPassword = "basic-password-must-not-leak"
)

// One GetAuthorizationToken per identity and region, however many
// namespaces and registries share it: two registries of one key in one
// region, one in another region, a role; thirty namespaces.
func TestControllerOneCallPerIdentityAndRegion(t *testing.T) {
	fake := ecrFake(t)
	t.Setenv("OCICRED_CLI_TEST_SK", ecrTestSecret)
	t.Setenv("OCICRED_CLI_TEST_BASIC", kubeBasicPassword)
	const euHost = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
	const prod2Host = "123456789012.dkr.ecr.us-west-2.amazonaws.com:443"
	regs := "registries:\n" + kubeBasic + `  - name: prod
    type: ecr
    endpoint: ` + ecrProdHost + `
    credentials: {type: secret, accessKeyId: ` + ecrTestKeyID + `, secretAccessKeyEnv: OCICRED_CLI_TEST_SK}
  - name: prod-again
    type: ecr
    endpoint: ` + prod2Host + `
    credentials: {type: secret, accessKeyId: ` + ecrTestKeyID + `, secretAccessKeyEnv: OCICRED_CLI_TEST_SK}
  - name: prod-eu
    type: ecr
    endpoint: ` + euHost + `
    credentials: {type: secret, accessKeyId: ` + ecrTestKeyID + `, secretAccessKeyEnv: OCICRED_CLI_TEST_SK}
  - name: role
    type: ecr
    endpoint: ` + ecrRoleHost + `
    credentials: {type: sts, roleArn: "` + ecrTestRole + `", accessKeyId: ` + ecrTestKeyID + `, secretAccessKeyEnv: OCICRED_CLI_TEST_SK}
`
	r := runController(t, regs)
	var names []string
	for range 30 {
		names = append(names, kubetest.Namespace(t, r.cs, "calls", map[string]string{"group": r.lease}))
	}
	for _, ns := range names {
		for _, h := range []string{ecrProdHost, prod2Host, euHost, ecrRoleHost, kubeBasicHost} {
			r.password(t, 15*time.Second, ns, h)
		}
	}
	// More namespaces later cost no call either.
	late := kubetest.Namespace(t, r.cs, "calls", map[string]string{"group": r.lease})
	r.password(t, 5*time.Second, late, ecrRoleHost)
	perScope := map[string]int{}
	for _, c := range fake.Calls() {
		if c.Action == "GetAuthorizationToken" {
			perScope[c.Principal+" "+c.Region]++
		}
	}
	if len(perScope) != 3 {
		t.Errorf("GetAuthorizationToken by identity and region: %v; want 3 (key in us-west-2, key in eu-west-1, role)", perScope)
	}
	for k, n := range perScope {
		if n != 1 {
			t.Errorf("%s: %d calls for %d namespaces", k, n, len(names)+1)
		}
	}
	noSecrets(t, r.log.String(), ecrTestSecret, kubeBasicPassword)
}

// The controller refreshes on its own (no API change, no config change,
// no request); through an AWS outage the last good token stays until it
// expires, then its entry goes while the Basic one stays; a Warning Event
// on the Lease says why.
func TestControllerRefreshAndOutage(t *testing.T) {
	fake := ecrFake(t)
	fake.Close()
	fake = awsfake.Start(t, awsfake.WithKey(ecrTestKeyID, ecrTestSecret), awsfake.WithTokenLifetime(4*time.Second))
	fake.Setenv(t)
	t.Setenv("OCICRED_CLI_TEST_SK", ecrTestSecret)
	t.Setenv("OCICRED_CLI_TEST_BASIC", kubeBasicPassword)
	regs := "registries:\n" + kubeBasic + `  - name: prod
    type: ecr
    endpoint: ` + ecrProdHost + `
    credentials: {type: secret, accessKeyId: ` + ecrTestKeyID + `, secretAccessKeyEnv: OCICRED_CLI_TEST_SK}
`
	r := runController(t, regs)
	ns := kubetest.Namespace(t, r.cs, "refresh", map[string]string{"group": r.lease})
	first := r.password(t, 10*time.Second, ns, ecrProdHost)
	seen := []string{first}
	kubetest.Eventually(t, 5*time.Second, "a refreshed token without prompting", func() error {
		if pw := r.password(t, time.Second, ns, ecrProdHost); pw != first {
			seen = append(seen, pw)
			return nil
		}
		return fmt.Errorf("same token")
	})

	fake.Inject(awsfake.AccessDenied, awsfake.ECRGetAuthorizationToken, awsfake.Forever)
	kubetest.Eventually(t, 10*time.Second, "a refused refresh", func() error {
		for _, c := range fake.Calls() {
			if c.ErrorCode != "" {
				return nil
			}
		}
		return fmt.Errorf("no refused call yet")
	})
	// From now on no new token: the last good one stays until its expiry.
	_, s, err := r.auths(ns)
	if err != nil || s == nil {
		t.Fatalf("Secret: %v", err)
	}
	exp, err := time.Parse(time.RFC3339, s.Annotations[kubesink.ExpiresAtAnnotation])
	if err != nil {
		t.Fatalf("expires-at: %v", err)
	}
	last := r.password(t, time.Second, ns, ecrProdHost)
	seen = append(seen, last)
	for time.Until(exp) > 300*time.Millisecond {
		if pw := r.password(t, time.Second, ns, ecrProdHost); pw != last {
			t.Fatalf("the entry changed during the outage")
		}
		time.Sleep(100 * time.Millisecond) // polling the observed state; the deadline is exp
	}
	kubetest.Eventually(t, time.Until(exp)+4*time.Second, "the expired entry removed", func() error {
		auths, s, err := r.auths(ns)
		if err != nil || s == nil {
			return fmt.Errorf("Secret: %v", err)
		}
		if _, ok := auths[ecrProdHost]; ok {
			return fmt.Errorf("still there, %v after its expiry", time.Since(exp))
		}
		if _, ok := auths[kubeBasicHost]; !ok {
			return fmt.Errorf("the Basic entry went too")
		}
		if v, ok := s.Annotations[kubesink.ExpiresAtAnnotation]; ok {
			return fmt.Errorf("expires-at %s with no expiring entry", v)
		}
		return nil
	})
	kubetest.Eventually(t, 5*time.Second, "a TokenRefreshFailed Event on the Lease", func() error {
		evs, err := r.cs.CoreV1().Events(r.lease).List(context.Background(), metav1.ListOptions{FieldSelector: fields.Set{
			"involvedObject.kind": "Lease", "reason": kubesink.ReasonRefreshFailed}.String()})
		if err != nil {
			return err
		}
		if len(evs.Items) == 0 {
			return fmt.Errorf("none")
		}
		if !strings.Contains(evs.Items[0].Message, "prod") {
			return fmt.Errorf("message %q", evs.Items[0].Message)
		}
		return nil
	})
	noSecrets(t, r.log.String(), append(seen, ecrTestSecret, kubeBasicPassword)...)
}

// noSecrets fails t when log holds any of secrets.
func noSecrets(t *testing.T, log string, secrets ...string) {
	t.Helper()
	if len(log) == 0 {
		t.Error("the controller logged nothing: the check would prove nothing")
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(log, s) {
			t.Errorf("a secret (%.4s…) is in the controller's log", s)
		}
	}
}

// The controller writes gar and acr registries into the pull Secrets like
// ECR's: each with its cloud's user name and a token its cloud's stand-in
// issued to the configured identity (the GAR token is Google's for the
// key's service account; the ACR refresh token is accepted by the
// registry's own /oauth2/token), and the Secret expires with the
// earliest token (GAR's hour before ACR's three).
func TestControllerEveryCloud(t *testing.T) {
	dir := t.TempDir()
	g := gcpfake.Start(t)
	const sa = "puller@ocicred-kube.iam.gserviceaccount.com"
	keyFile := filepath.Join(dir, "key.json")
	if err := os.WriteFile(keyFile, g.NewKey(sa).JSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	const tenant, client = "72f988bf-86f1-41af-91ab-2d7cd011db47", "00000000-0000-0000-0000-00000000cafe"
	clientSecret := "azure-secret-must-not-leak"
	cliAzure.AddClientSecret(tenant, client, clientSecret)
	secretFile := filepath.Join(dir, "acr.secret")
	if err := os.WriteFile(secretFile, []byte(clientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	up, err := url.Parse("http://127.0.0.1:9") // no pull goes through it here
	if err != nil {
		t.Fatal(err)
	}
	acr := cliAzure.NewRegistry(up)
	acr.Grant(client)
	const garHost = "europe-west3-docker.pkg.dev"
	regs := "registries:\n" + `  - name: gar
    type: gar
    endpoint: ` + garHost + `
    credentials: {type: serviceAccountKey, keyFile: ` + keyFile + `}
  - name: acr
    type: acr
    endpoint: ` + acr.URL + `
    tenantId: ` + tenant + `
    authorityHost: ` + cliAzure.AuthorityHost() + `
    disableInstanceDiscovery: true
    credentials: {type: clientSecret, clientId: ` + client + `, clientSecretFile: ` + secretFile + `}
`
	r := runController(t, regs)
	ns := kubetest.Namespace(t, r.cs, "clouds", map[string]string{"group": r.lease})
	garToken := r.password(t, 20*time.Second, ns, garHost)
	acrToken := r.password(t, 20*time.Second, ns, acr.Host)
	auths, s, err := r.auths(ns)
	if err != nil {
		t.Fatal(err)
	}
	if u := auths[garHost]["username"]; u != "oauth2accesstoken" {
		t.Errorf("gar entry's user name %q", u)
	}
	if u := auths[acr.Host]["username"]; u != "00000000-0000-0000-0000-000000000000" {
		t.Errorf("acr entry's user name %q", u)
	}
	if owner, ok := g.TokenOwner(garToken); !ok || owner != sa {
		t.Errorf("the gar entry's token: owner %q, valid %v; want a token Google issued to %s", owner, ok, sa)
	}
	req, err := http.NewRequest(http.MethodGet, acr.URL+"/oauth2/token?service="+acr.Host+"&scope=repository:demo/hello:pull", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(auths[acr.Host]["username"], acrToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the registry's /oauth2/token refuses the acr entry: %s", resp.Status)
	}
	exp, err := time.Parse(time.RFC3339, s.Annotations[kubesink.ExpiresAtAnnotation])
	if left := time.Until(exp); err != nil || left > time.Hour || left < 30*time.Minute {
		t.Errorf("the Secret expires in %v (%v); want GAR's hour, the earliest", left, err)
	}
	noSecrets(t, r.log.String(), clientSecret, garToken, acrToken)
}
