package deploy

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/test/kubetest"
	"github.com/ocicred/ocicred/test/testenv"
)

var update = flag.Bool("update", false, "rewrite ocicred.yaml from the chart")

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	kubetest.Stop()
	os.Exit(code)
}

// render runs helm template on the chart with args.
func render(t *testing.T, namespace string, args ...string) []byte {
	t.Helper()
	helm := testenv.Tool(t, "helm")
	cmd := exec.Command(helm, append([]string{"template", "ocicred", "chart/ocicred", "--namespace", namespace}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, stderr.String())
	}
	return out
}

// The chart lints, deploy/ocicred.yaml is what it renders (go test
// ./deploy -update rewrites it), and the config it writes is one that
// ocicred's own parser accepts.
func TestChart(t *testing.T) {
	helm := testenv.Tool(t, "helm")
	if out, err := exec.Command(helm, "lint", "--strict", "chart/ocicred").CombinedOutput(); err != nil {
		t.Fatalf("helm lint: %v\n%s", err, out)
	}
	got := render(t, "ocicred", "--set", "createNamespace=true")
	if *update {
		if err := os.WriteFile("ocicred.yaml", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("ocicred.yaml")
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("ocicred.yaml is not what the chart renders (%v); run go test ./deploy -update", err)
	}
	objs := decodeAll(t, got)
	kinds := map[string]int{}
	for _, o := range objs {
		kinds[o.GetKind()]++
		if o.GetKind() == "Secret" {
			body, _, _ := unstructured.NestedString(o.Object, "stringData", "config.yaml")
			cfg, err := config.Parse([]byte(body), "config.yaml")
			if err != nil {
				t.Fatalf("the chart's config: %v\n%s", err, body)
			}
			if k := cfg.KubernetesSettings(); k.SecretName != "ocicred-pull" || k.LeaderElection.Namespace != "ocicred" {
				t.Errorf("the chart's config: %+v", k)
			}
		}
		if o.GetKind() == "Deployment" {
			if n, _, _ := unstructured.NestedFieldNoCopy(o.Object, "spec", "replicas"); fmt.Sprint(n) != "2" {
				t.Errorf("controller replicas = %v, want 2", n)
			}
			c, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
			sc, _, _ := unstructured.NestedMap(c[0].(map[string]any), "securityContext")
			if sc["readOnlyRootFilesystem"] != true || sc["allowPrivilegeEscalation"] != false {
				t.Errorf("controller securityContext = %v", sc)
			}
			if nr, _, _ := unstructured.NestedBool(o.Object, "spec", "template", "spec", "securityContext", "runAsNonRoot"); !nr {
				t.Error("the controller may run as root")
			}
		}
	}
	for _, k := range []string{"Namespace", "Secret", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Deployment", "DaemonSet"} {
		if kinds[k] == 0 {
			t.Errorf("no %s rendered", k)
		}
	}
}

// decodeAll splits a multi-document YAML stream into objects.
func decodeAll(t *testing.T, data []byte) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		if len(m) > 0 {
			out = append(out, &unstructured.Unstructured{Object: m})
		}
	}
}

// applier applies objects with server-side apply, as kubectl apply
// --server-side does.
type applier struct {
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

func newApplier(t *testing.T, cl *kubetest.Cluster) *applier {
	t.Helper()
	rc := cl.Config(kubetest.AdminToken)
	dc, err := discovery.NewDiscoveryClientForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return &applier{dyn: dynamic.NewForConfigOrDie(rc), mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}
}

func (a *applier) apply(o *unstructured.Unstructured, dryRun bool) error {
	gvk := o.GroupVersionKind()
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return err
	}
	opts := metav1.ApplyOptions{FieldManager: "ocicred-test", Force: true}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	r := a.dyn.Resource(m.Resource)
	if ns := o.GetNamespace(); ns != "" {
		_, err = r.Namespace(ns).Apply(context.Background(), o.GetName(), o, opts)
	} else {
		_, err = r.Apply(context.Background(), o.GetName(), o, opts)
	}
	if err != nil {
		return fmt.Errorf("%s %s/%s: %w", gvk.Kind, o.GetNamespace(), o.GetName(), err)
	}
	return nil
}

// Every rendered object is valid to the API server: server-side apply
// with dry-run (the Namespace for real, as the others live in it).
func TestManifestsServerSideDryRun(t *testing.T) {
	cl := kubetest.Start(t)
	ns := kubetest.Namespace(t, cl.Admin(t), "dryrun", nil)
	a := newApplier(t, cl)
	objs := decodeAll(t, render(t, ns, "--set", "createNamespace=true", "--set-json",
		`registries=[{"name":"prod","type":"ecr","endpoint":"123456789012.dkr.ecr.us-west-2.amazonaws.com"}]`))
	for _, o := range objs {
		if err := a.apply(o, true); err != nil {
			t.Errorf("dry-run apply: %v", err)
		}
	}
	if len(objs) < 10 {
		t.Errorf("only %d objects rendered", len(objs))
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// ocicredBinary builds cmd/ocicred from this tree once per test binary.
func ocicredBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ocicred-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ocicred")
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/ocicred").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// replica is one `ocicred controller` process.
type replica struct {
	cmd *exec.Cmd
	log *bytes.Buffer
	mu  *sync.Mutex
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (r *replica) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.String()
}

// startReplica runs the controller as a real process until the test ends.
func startReplica(t *testing.T, podName, cfg, kubeconfig string, extra ...string) *replica {
	t.Helper()
	r := &replica{log: &bytes.Buffer{}, mu: &sync.Mutex{}}
	args := append([]string{"controller", "--config", cfg, "--kubeconfig", kubeconfig, "--listen", ""}, extra...)
	r.cmd = exec.Command(ocicredBinary(t), args...)
	r.cmd.Env = append(os.Environ(), "POD_NAME="+podName, "OCICRED_DEPLOY_TEST_PW="+basicPassword)
	r.cmd.Stdout, r.cmd.Stderr = lockedWriter{r.mu, r.log}, lockedWriter{r.mu, r.log}
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		_ = r.cmd.Wait()
		if t.Failed() {
			t.Logf("%s:\n%s", podName, r.output())
		}
		if strings.Contains(r.output(), basicPassword) {
			t.Errorf("%s logged the registry password", podName)
		}
	})
	return r
}

const basicPassword = "deploy-test-password-must-not-leak"

// writeConfig writes a config with one Basic registry.
func writeConfig(t *testing.T, dir, kube string) string {
	t.Helper()
	p := filepath.Join(dir, "config.yaml")
	body := kube + `registries:
  - name: harbor
    type: basic
    endpoint: harbor.example.com:8443
    username: robot
    passwordEnv: OCICRED_DEPLOY_TEST_PW
`
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func waitSecret(t *testing.T, within time.Duration, cs interface {
	Get(ctx context.Context, name string, o metav1.GetOptions) (*corev1.Secret, error)
}, name string) {
	t.Helper()
	kubetest.Eventually(t, within, "Secret "+name, func() error {
		_, err := cs.Get(context.Background(), name, metav1.GetOptions{})
		return err
	})
}

// The controller runs with a ServiceAccount token (TokenRequest API) bound
// to exactly the rendered roles, and everything works: Secrets written,
// the ServiceAccount patched, the Lease held. Writes outside the roles are
// refused, and it cannot read a Secret that is not its own.
func TestShippedRBAC(t *testing.T) {
	cl := kubetest.Start(t)
	admin := cl.Admin(t)
	ctx := context.Background()
	release := kubetest.Namespace(t, admin, "ocicred", nil)
	a := newApplier(t, cl)
	for _, o := range decodeAll(t, render(t, release)) {
		switch o.GetKind() {
		case "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding":
			if err := a.apply(o, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	token := kubetest.ServiceAccountToken(t, admin, release, "ocicred-controller")
	dir := t.TempDir()
	kc := cl.Kubeconfig(t, dir, token)
	team := kubetest.Namespace(t, admin, "team", map[string]string{"ocicred.io/pull": "true", "rbac": release})
	if _, err := admin.CoreV1().ServiceAccounts(team).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "own"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	own := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "own"}, StringData: map[string]string{"k": "v"}}
	if _, err := admin.CoreV1().Secrets(team).Create(ctx, own, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, dir, "kubernetes:\n  namespaceSelector: rbac="+release+"\n  serviceAccounts: [default]\n  leaderElection: {namespace: "+release+"}\n")
	r := startReplica(t, "rbac", cfg, kc)
	waitSecret(t, 10*time.Second, admin.CoreV1().Secrets(team), "ocicred-pull")
	kubetest.Eventually(t, 10*time.Second, "the ServiceAccount lists the Secret", func() error {
		sa, err := admin.CoreV1().ServiceAccounts(team).Get(ctx, "default", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if len(sa.ImagePullSecrets) != 2 || sa.ImagePullSecrets[0].Name != "own" || sa.ImagePullSecrets[1].Name != "ocicred-pull" {
			return fmt.Errorf("imagePullSecrets %v", sa.ImagePullSecrets)
		}
		return nil
	})
	// Relabelled away: deleted, with the same token.
	if _, err := admin.CoreV1().Namespaces().Patch(ctx, team, types.MergePatchType, []byte(`{"metadata":{"labels":{"rbac":"no"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	kubetest.Eventually(t, 5*time.Second, "the Secret deleted", func() error {
		_, err := admin.CoreV1().Secrets(team).Get(ctx, "ocicred-pull", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there: %v", err)
	})
	if strings.Contains(r.output(), "forbidden") {
		t.Errorf("the controller was refused something it needs:\n%s", r.output())
	}

	// Outside the roles: refused.
	limited := cl.Config(token)
	lcs := kubetest.ClientFor(t, limited)
	refused := map[string]error{}
	_, refused["read a Secret not its own"] = lcs.CoreV1().Secrets(team).Get(ctx, "own", metav1.GetOptions{})
	_, refused["list every Secret"] = lcs.CoreV1().Secrets(team).List(ctx, metav1.ListOptions{})
	_, refused["create a ConfigMap"] = lcs.CoreV1().ConfigMaps(team).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
	_, refused["label a Namespace"] = lcs.CoreV1().Namespaces().Patch(ctx, team, types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{})
	_, refused["patch another ServiceAccount"] = lcs.CoreV1().ServiceAccounts(release).Patch(ctx, "ocicred-controller", types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{})
	refused["delete a Secret not its own"] = lcs.CoreV1().Secrets(team).Delete(ctx, "own", metav1.DeleteOptions{})
	_, refused["take another Lease"] = lcs.CoordinationV1().Leases(release).Update(ctx, leaseNamed("other", release), metav1.UpdateOptions{})
	_, refused["a Lease in another namespace"] = lcs.CoordinationV1().Leases(team).Create(ctx, leaseNamed("ocicred-controller", team), metav1.CreateOptions{})
	for what, err := range refused {
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s: %v, want Forbidden", what, err)
		}
	}
}
