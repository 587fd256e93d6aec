package kubesink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/ocicred/ocicred/test/kubetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	kubetest.Stop()
	os.Exit(code)
}

// fakeSource is a Source whose snapshot a test sets.
type fakeSource struct {
	mu      sync.Mutex
	snap    *Snapshot
	changed chan struct{}
}

func newFakeSource(snap *Snapshot) *fakeSource {
	return &fakeSource{snap: snap, changed: make(chan struct{}, 1)}
}

func (f *fakeSource) Snapshot() *Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap
}

func (f *fakeSource) Changed() <-chan struct{} { return f.changed }

func (f *fakeSource) set(snap *Snapshot) {
	f.mu.Lock()
	f.snap = snap
	f.mu.Unlock()
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

// testLog writes to t.Log until the test ends, and never after.
type testLog struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func newTestLogger(t testing.TB) *slog.Logger {
	w := &testLog{t: t}
	t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// harness is one controller (Run) on the shared cluster, with a Lease and
// a Secret name of its own so that tests do not see each other's writes.
type harness struct {
	cs         kubernetes.Interface
	secretName string
	lease      string // namespace of the Lease
}

// startSink runs Run with src until the test ends.
func startSink(t *testing.T, src Source, edit ...func(*Options)) *harness {
	t.Helper()
	cl := kubetest.Start(t)
	cs := cl.Admin(t)
	h := &harness{cs: cs, lease: kubetest.Namespace(t, cs, "lease", nil)}
	// Unique per run (-count), so that no earlier run's Secrets count.
	h.secretName = "pull-" + h.lease
	opts := Options{SecretName: h.secretName, LeaseNamespace: h.lease, LeaseName: "ocicred", Identity: "test-" + t.Name(),
		Logger: newTestLogger(t), RetryPeriod: 200 * time.Millisecond, LeaseDuration: 3 * time.Second, RenewDeadline: 2 * time.Second}
	for _, e := range edit {
		e(&opts)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cs, func(context.Context) Source { return src }, opts) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return h
}

// withSecretName is a config's kubernetes section naming h's Secret.
func (h *harness) kube(extra string) string {
	return "kubernetes:\n  secretName: " + h.secretName + "\n" + extra
}

// auths reads ns's Secret: its entries and expires-at; errNoSecret when there is none.
func (h *harness) auths(ns string) (map[string]dockerAuth, *corev1.Secret, error) {
	s, err := h.cs.CoreV1().Secrets(ns).Get(context.Background(), h.secretName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil, errNoSecret
	}
	if err != nil {
		return nil, nil, err
	}
	var dc dockerConfig
	if err := json.Unmarshal(s.Data[corev1.DockerConfigJsonKey], &dc); err != nil {
		return nil, s, err
	}
	return dc.Auths, s, nil
}

var errNoSecret = errors.New("no Secret")

// hasEntry waits for ns's Secret to hold host with password pw.
func (h *harness) hasEntry(t *testing.T, within time.Duration, ns, host, pw string) {
	t.Helper()
	kubetest.Eventually(t, within, fmt.Sprintf("Secret in %s with %s", ns, host), func() error {
		auths, _, err := h.auths(ns)
		if err != nil {
			return err
		}
		if a, ok := auths[host]; !ok || a.Password != pw {
			return fmt.Errorf("entries %v", keys(auths))
		}
		return nil
	})
}

// noSecret waits for ns to have no Secret of h's name.
func (h *harness) noSecret(t *testing.T, within time.Duration, ns string) {
	t.Helper()
	kubetest.Eventually(t, within, "no Secret in "+ns, func() error {
		_, _, err := h.auths(ns)
		if errors.Is(err, errNoSecret) {
			return nil
		}
		if err != nil {
			return err
		}
		return errors.New("the Secret is still there")
	})
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func setLabels(t *testing.T, cs kubernetes.Interface, ns string, labels map[string]string) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": labels}})
	if _, err := cs.CoreV1().Namespaces().Patch(context.Background(), ns, "application/merge-patch+json", b, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}
