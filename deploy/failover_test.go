package deploy

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ocicred/ocicred/internal/kubesink"
	"github.com/ocicred/ocicred/test/kubetest"
)

func leaseNamed(name, ns string) *coordinationv1.Lease {
	return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
}

// Two replicas as real processes, with the default Lease timings: one
// leads and writes; kill -9 it, and the other takes over within the Lease
// duration plus one refresh: a namespace created after the kill gets its
// Secret by then.
func TestLeaderFailover(t *testing.T) {
	cl := kubetest.Start(t)
	admin := cl.Admin(t)
	ctx := context.Background()
	leaseNS := kubetest.Namespace(t, admin, "lease", nil)
	dir := t.TempDir()
	kc := cl.Kubeconfig(t, dir, kubetest.AdminToken)
	cfg := writeConfig(t, dir, "kubernetes:\n  secretName: failover-pull\n  namespaceSelector: failover="+leaseNS+"\n  leaderElection: {namespace: "+leaseNS+", name: ocicred}\n")
	replicas := map[string]*replica{
		"replica-a": startReplica(t, "replica-a", cfg, kc),
		"replica-b": startReplica(t, "replica-b", cfg, kc),
	}
	sel := map[string]string{"failover": leaseNS}
	first := kubetest.Namespace(t, admin, "failover", sel)
	waitSecret(t, 15*time.Second, admin.CoreV1().Secrets(first), "failover-pull")

	var holder string
	kubetest.Eventually(t, 5*time.Second, "a Lease holder", func() error {
		l, err := admin.CoordinationV1().Leases(leaseNS).Get(ctx, "ocicred", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" {
			return fmt.Errorf("no holder")
		}
		holder = *l.Spec.HolderIdentity
		return nil
	})
	leader, _, _ := strings.Cut(holder, "_")
	dead, ok := replicas[leader]
	if !ok {
		t.Fatalf("holder %q is neither replica", holder)
	}
	for name, r := range replicas {
		if name != leader && strings.Contains(r.output(), "leading: writing") {
			t.Errorf("%s leads too while %s holds the Lease", name, leader)
		}
	}
	if err := dead.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	_ = dead.cmd.Wait()
	after := kubetest.Namespace(t, admin, "failover", sel)
	within := kubesink.DefaultLeaseDuration + 5*time.Second // the Lease duration plus one refresh
	waitSecret(t, within-time.Since(killed), admin.CoreV1().Secrets(after), "failover-pull")
	t.Logf("a namespace created after kill -9 of %s had its Secret %v later", leader, time.Since(killed).Round(100*time.Millisecond))
	l, err := admin.CoordinationV1().Leases(leaseNS).Get(ctx, "ocicred", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h := *l.Spec.HolderIdentity; strings.HasPrefix(h, leader+"_") {
		t.Errorf("the dead replica still holds the Lease: %s", h)
	}
}
