package kubesink

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/secret"
	"github.com/ocicred/ocicred/test/kubetest"
)

const ecrAndBasic = basicOnly + `  - name: prod
    type: ecr
    endpoint: ` + prodHost + `
`

// A token that is not refreshed stays until it expires, then its entry
// goes, with no notification from the engine: the sink looks again at the
// Secret's earliest expiry by itself.
func TestEntryRemovedAtExpiry(t *testing.T) {
	src := newFakeSource(nil)
	h := startSink(t, src)
	ns := kubetest.Namespace(t, h.cs, "expiry", pull)
	exp := time.Now().Add(3 * time.Second)
	src.set(parseSnapshot(t, h.kube("  namespaceSelector: ocicred.io/pull=true\n")+ecrAndBasic,
		map[string]creds.Token{"prod": {Password: secret.New("short-lived"), ExpiresAt: exp}}))
	h.hasEntry(t, 5*time.Second, ns, prodHost, "short-lived")
	kubetest.Eventually(t, time.Until(exp)+3*time.Second, "the expired entry removed", func() error {
		auths, s, err := h.auths(ns)
		if err != nil {
			return err
		}
		if _, ok := auths[prodHost]; ok {
			return fmt.Errorf("still there")
		}
		if time.Now().Before(exp) {
			t.Fatalf("removed %v before its expiry", time.Until(exp))
		}
		if _, ok := s.Annotations[ExpiresAtAnnotation]; ok || len(auths) != 1 {
			return fmt.Errorf("entries %v, annotations %v", keys(auths), s.Annotations)
		}
		return nil
	})
}

// A new leader whose engine has no token yet keeps the entry the previous
// leader wrote while the Secret's expires-at lies ahead.
func TestNewLeaderKeepsGoodEntry(t *testing.T) {
	cl := kubetest.Start(t)
	cs := cl.Admin(t)
	ns := kubetest.Namespace(t, cs, "carry", pull)
	name := "pull-testnewleaderkeepsgoodentry"
	now := time.Now()
	prev := parseSnapshot(t, "kubernetes: {secretName: "+name+"}\n"+ecrAndBasic,
		map[string]creds.Token{"prod": {Password: secret.New("from-old-leader"), ExpiresAt: now.Add(time.Hour)}})
	old := secretFor(ns, name, desired(prev, ns, nil, now))
	created, err := cs.CoreV1().Secrets(ns).Create(context.Background(), old, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mark := kubetest.Namespace(t, cs, "carry-mark", pull)
	src := newFakeSource(parseSnapshot(t, "kubernetes: {secretName: "+name+", namespaceSelector: ocicred.io/pull=true}\n"+ecrAndBasic, nil))
	h := startSink(t, src)
	h.hasEntry(t, 5*time.Second, mark, harborHost, "basic-pw")
	got, err := cs.CoreV1().Secrets(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.ResourceVersion != created.ResourceVersion {
		t.Errorf("the new leader rewrote a Secret whose entries were all still good")
	}
	// Its own token replaces the carried one.
	src.set(parseSnapshot(t, "kubernetes: {secretName: "+name+", namespaceSelector: ocicred.io/pull=true}\n"+ecrAndBasic,
		map[string]creds.Token{"prod": {Password: secret.New("fresh"), ExpiresAt: now.Add(2 * time.Hour)}}))
	h.hasEntry(t, 5*time.Second, ns, prodHost, "fresh")
}

// A token refresh costs at most one Secret update per namespace, and a
// snapshot that changes nothing costs none.
func TestOneUpdatePerNamespacePerRefresh(t *testing.T) {
	src := newFakeSource(nil)
	h := startSink(t, src)
	const n = 20
	group := map[string]string{"ocicred.io/pull": "true", "group": h.lease}
	var names []string
	for range n {
		names = append(names, kubetest.Namespace(t, h.cs, "writes", group))
	}
	cfg := h.kube("  namespaceSelector: group="+h.lease+"\n") + ecrAndBasic
	token := func(pw string) map[string]creds.Token {
		return map[string]creds.Token{"prod": {Password: secret.New(pw), ExpiresAt: time.Now().Add(time.Hour)}}
	}
	src.set(parseSnapshot(t, cfg, token("first")))
	for _, ns := range names {
		h.hasEntry(t, 10*time.Second, ns, prodHost, "first")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := h.cs.CoreV1().Secrets("").Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", h.secretName).String()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	second := token("second")
	src.set(parseSnapshot(t, cfg, second)) // a refresh
	src.set(parseSnapshot(t, cfg, second)) // the same again: no write
	src.set(parseSnapshot(t, cfg, second)) // and again
	for _, ns := range names {
		h.hasEntry(t, 10*time.Second, ns, prodHost, "second")
	}
	// A marker: one more refresh, to see every event of the first.
	src.set(parseSnapshot(t, cfg, token("third")))
	updates := map[string]int{}
	seenThird := 0
	timeout := time.After(20 * time.Second)
	for seenThird < n {
		select {
		case ev := <-w.ResultChan():
			s, ok := ev.Object.(*corev1.Secret)
			if ok && ev.Type == watch.Added {
				continue // the watch starts with what exists
			}
			if !ok || ev.Type != watch.Modified {
				t.Fatalf("unexpected %s %T", ev.Type, ev.Object)
			}
			if string(s.Data[corev1.DockerConfigJsonKey]) != "" && contains(s, "third") {
				seenThird++
				continue
			}
			updates[s.Namespace]++
		case <-timeout:
			t.Fatalf("saw %d of %d updates to the third token", seenThird, n)
		}
	}
	for _, ns := range names {
		if updates[ns] != 1 {
			t.Errorf("%s: %d updates for one refresh", ns, updates[ns])
		}
	}
	if len(updates) != n {
		t.Errorf("updates in %d namespaces, want %d: %v", len(updates), n, updates)
	}
}

func contains(s *corev1.Secret, pw string) bool {
	var dc dockerConfig
	_ = json.Unmarshal(s.Data[corev1.DockerConfigJsonKey], &dc)
	return dc.Auths[prodHost].Password == pw
}
