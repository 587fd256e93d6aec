// Package kubetest runs a real kube-apiserver and etcd for tests: the
// binaries that .ci/install-kube builds from the Go module proxy into
// .tools/kube (KUBE_BIN overrides), started once per test binary on
// loopback ports with token authentication and RBAC, as the shared recipe's
// start-cluster.sh does. There is no controller-manager, scheduler or
// kubelet: nothing creates default ServiceAccounts, deletes namespaces or
// runs Pods. Use a fresh namespace name per test.
//
// Only tests import it. Start is the entry point; call Stop from TestMain.
package kubetest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/ocicred/ocicred/test/testenv"
)

// AdminToken authenticates as a member of system:masters.
const AdminToken = "kubetest-admin-token"

// Cluster is a running etcd and kube-apiserver.
type Cluster struct {
	// Host is the API server's URL, https://127.0.0.1:PORT.
	Host string
	// CAFile is the API server's self-signed serving certificate.
	CAFile string
	// Dir holds the cluster's files (logs, certificates, etcd data).
	Dir string

	etcd, apiserver *exec.Cmd
}

var (
	mu      sync.Mutex
	shared  *Cluster
	starter error
)

// BinDir is where the binaries are looked for: KUBE_BIN, else the
// repository's .tools/kube.
func BinDir() string {
	if d := os.Getenv("KUBE_BIN"); d != "" {
		return d
	}
	return filepath.Join(testenv.RepoRoot(), ".tools", "kube")
}

// Start returns the test binary's cluster, starting it on first use. It
// skips t (fails it under CI=true) when the binaries are missing.
func Start(t testing.TB) *Cluster {
	t.Helper()
	for _, b := range []string{"etcd", "kube-apiserver"} {
		if fi, err := os.Stat(filepath.Join(BinDir(), b)); err != nil || fi.Mode()&0o111 == 0 {
			testenv.Skip(t, fmt.Sprintf("%s is not in %s: run bash .ci/install-kube (make test runs it)", b, BinDir()))
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if shared == nil && starter == nil {
		shared, starter = start()
	}
	if starter != nil {
		t.Fatalf("kubetest: %v", starter)
	}
	return shared
}

// Stop ends the cluster if one was started, and removes its files. Call it
// from TestMain after m.Run.
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	if shared != nil {
		shared.stop()
		shared = nil
	}
}

func start() (*Cluster, error) {
	dir, err := os.MkdirTemp("", "kubetest-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, CAFile: filepath.Join(dir, "certs", "apiserver.crt")}
	if err := c.run(); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) run() error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"sa.key":     pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		"sa.pub":     pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
		"tokens.csv": []byte(AdminToken + `,admin,admin-uid,"system:masters"` + "\n"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(c.Dir, name), b, 0o600); err != nil {
			return err
		}
	}
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	ep, pp, ap := ports[0], ports[1], ports[2]
	client := fmt.Sprintf("http://127.0.0.1:%d", ep)
	peer := fmt.Sprintf("http://127.0.0.1:%d", pp)
	c.etcd, err = c.spawn("etcd", "etcd.log", "--name=default", "--data-dir="+filepath.Join(c.Dir, "etcd-data"),
		"--listen-client-urls="+client, "--advertise-client-urls="+client,
		"--listen-peer-urls="+peer, "--initial-advertise-peer-urls="+peer, "--initial-cluster=default="+peer,
		"--unsafe-no-fsync", "--quota-backend-bytes=4294967296")
	if err != nil {
		return err
	}
	if err := waitHTTP(client+"/health", nil, c.etcd, filepath.Join(c.Dir, "etcd.log")); err != nil {
		return err
	}
	c.apiserver, err = c.spawn("kube-apiserver", "apiserver.log", "--etcd-servers="+client,
		"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(ap),
		"--cert-dir="+filepath.Join(c.Dir, "certs"), "--token-auth-file="+filepath.Join(c.Dir, "tokens.csv"),
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+filepath.Join(c.Dir, "sa.pub"),
		"--service-account-signing-key-file="+filepath.Join(c.Dir, "sa.key"),
		"--service-cluster-ip-range=10.0.0.0/24", "--max-requests-inflight=1000", "--max-mutating-requests-inflight=500")
	if err != nil {
		return err
	}
	c.Host = fmt.Sprintf("https://127.0.0.1:%d", ap)
	return waitHTTP(c.Host+"/readyz", map[string]string{"Authorization": "Bearer " + AdminToken}, c.apiserver, filepath.Join(c.Dir, "apiserver.log"))
}

// spawn starts a binary in its own process group, logging to a file.
func (c *Cluster) spawn(bin, logName string, args ...string) (*exec.Cmd, error) {
	logf, err := os.Create(filepath.Join(c.Dir, logName))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(filepath.Join(BinDir(), bin), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { _ = cmd.Wait(); logf.Close() }()
	return cmd, nil
}

// waitHTTP polls url until it answers 200 "ok"-ish, the process dies, or 60 s pass.
func waitHTTP(url string, headers map[string]string, proc *exec.Cmd, logFile string) error {
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // #nosec: loopback test server with a self-signed certificate
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if proc.ProcessState != nil || syscall.Kill(proc.Process.Pid, 0) != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	tail, _ := os.ReadFile(logFile)
	if len(tail) > 4000 {
		tail = tail[len(tail)-4000:]
	}
	return fmt.Errorf("%s did not become ready; log %s ends:\n%s", url, logFile, tail)
}

func (c *Cluster) stop() {
	for _, p := range []*exec.Cmd{c.apiserver, c.etcd} {
		if p != nil && p.Process != nil {
			_ = syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
		}
	}
	_ = os.RemoveAll(c.Dir)
}

func freePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Config is a client config for bearer token; QPS is high enough for
// tests that write a thousand objects.
func (c *Cluster) Config(token string) *rest.Config {
	return &rest.Config{Host: c.Host, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAFile: c.CAFile}, QPS: 200, Burst: 400}
}

// Admin is a client authorised for everything.
func (c *Cluster) Admin(t testing.TB) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(c.Config(AdminToken))
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// Kubeconfig writes a kubeconfig file for token into dir and returns its path.
func (c *Cluster) Kubeconfig(t testing.TB, dir, token string) string {
	t.Helper()
	p := filepath.Join(dir, "kubeconfig")
	body := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: kubetest, cluster: {server: %q, certificate-authority: %q}}]
users: [{name: u, user: {token: %q}}]
contexts: [{name: c, context: {cluster: kubetest, user: u}}]
current-context: c
`, c.Host, c.CAFile, token)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Namespace creates a namespace with a fresh name that starts with prefix,
// with labels, and returns its name. Deleted namespaces stay Terminating
// here (no controller-manager), so names are never reused.
func Namespace(t testing.TB, cs kubernetes.Interface, prefix string, labels map[string]string) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := strings.ToLower(prefix) + "-" + hex.EncodeToString(b)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if _, err := cs.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	return name
}

// ServiceAccountToken asks the TokenRequest API for a token of the
// ServiceAccount ns/name, valid for an hour.
func ServiceAccountToken(t testing.TB, cs kubernetes.Interface, ns, name string) string {
	t.Helper()
	secs := int64(3600)
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(context.Background(), name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &secs}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("TokenRequest for %s/%s: %v", ns, name, err)
	}
	return tr.Status.Token
}

// Eventually calls check until it returns nil or within passes; then it
// fails t with check's last error. Deadlines, never sleeps, are the
// contract: "within 5 s" is Eventually(t, 5*time.Second, ...).
func Eventually(t testing.TB, within time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ClientFor is a client for rc.
func ClientFor(t testing.TB, rc *rest.Config) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}
