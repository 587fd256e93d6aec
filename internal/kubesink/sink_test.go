package kubesink

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/secret"
	"github.com/ocicred/ocicred/test/kubetest"
)

const basicOnly = `registries:
  - name: harbor
    type: basic
    endpoint: harbor.example.com:8443
    username: robot
    password: basic-pw
`

const harborHost = "harbor.example.com:8443"

var pull = map[string]string{"ocicred.io/pull": "true"}

// Selection by label: a labelled namespace gets its Secret (type, label,
// content), an unlabelled one none; a namespace created or labelled to
// match gets one within 5 s, one that stops matching loses it within 5 s.
func TestSelectionByLabel(t *testing.T) {
	src := newFakeSource(nil)
	h := startSink(t, src)
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	src.set(parseSnapshot(t, h.kube("  namespaceSelector: ocicred.io/pull=true\n")+twoRegistries,
		map[string]creds.Token{"prod": {Password: secret.New("ecr-pw"), ExpiresAt: exp}}))
	labelled := kubetest.Namespace(t, h.cs, "sel-a", pull)
	plain := kubetest.Namespace(t, h.cs, "sel-b", nil)

	h.hasEntry(t, 5*time.Second, labelled, harborHost, "basic-pw")
	auths, s, _ := h.auths(labelled)
	if s.Type != corev1.SecretTypeDockerConfigJson || s.Labels[ManagedByLabel] != ManagedByValue || len(auths) != 1 {
		t.Errorf("Secret = type %s labels %v entries %v", s.Type, s.Labels, keys(auths))
	}
	if _, ok := s.Annotations[ExpiresAtAnnotation]; ok {
		t.Errorf("a Basic-only Secret has %s", ExpiresAtAnnotation)
	}

	// Relabelled to match: within 5 s.
	setLabels(t, h.cs, plain, pull)
	h.hasEntry(t, 5*time.Second, plain, harborHost, "basic-pw")
	// Stops matching: loses it within 5 s.
	setLabels(t, h.cs, labelled, map[string]string{"ocicred.io/pull": "false"})
	h.noSecret(t, 5*time.Second, labelled)
	// Created matching: within 5 s.
	fresh := kubetest.Namespace(t, h.cs, "sel-c", pull)
	h.hasEntry(t, 5*time.Second, fresh, harborHost, "basic-pw")
}

// Without a selector every namespace but kube-system, kube-public and
// kube-node-lease gets the Secret; a registry's namespaces list limits it.
func TestNoSelectorAndRegistryNamespaces(t *testing.T) {
	src := newFakeSource(nil)
	h := startSink(t, src)
	teamA := kubetest.Namespace(t, h.cs, "team-a", nil)
	other := kubetest.Namespace(t, h.cs, "other", nil)
	exp := time.Now().Add(time.Hour)
	cfg := h.kube("") + basicOnly + `  - name: prod
    type: ecr
    endpoint: ` + prodHost + `
    namespaces: [` + teamA + `]
`
	src.set(parseSnapshot(t, cfg, map[string]creds.Token{"prod": {Password: secret.New("ecr-pw"), ExpiresAt: exp}}))

	h.hasEntry(t, 5*time.Second, teamA, prodHost, "ecr-pw")
	h.hasEntry(t, 5*time.Second, other, harborHost, "basic-pw")
	h.hasEntry(t, 5*time.Second, "default", harborHost, "basic-pw")
	auths, s, _ := h.auths(other)
	if _, ok := auths[prodHost]; ok {
		t.Errorf("%s got prod, limited to %s", other, teamA)
	}
	if _, ok := s.Annotations[ExpiresAtAnnotation]; ok {
		t.Errorf("%s has only Basic but an expiry", other)
	}
	_, s, _ = h.auths(teamA)
	if got, want := s.Annotations[ExpiresAtAnnotation], exp.UTC().Format(time.RFC3339); got != want {
		t.Errorf("%s expires-at = %q, want %q", teamA, got, want)
	}
	for _, sys := range []string{"kube-system", "kube-public", "kube-node-lease"} {
		if _, _, err := h.auths(sys); err != errNoSecret {
			t.Errorf("%s: %v, want no Secret", sys, err)
		}
	}

	// A registry removed from the config leaves every Secret; with none
	// left, the Secrets go.
	src.set(parseSnapshot(t, h.kube("")+basicOnly, nil))
	kubetest.Eventually(t, 5*time.Second, "prod removed from "+teamA, func() error {
		auths, _, err := h.auths(teamA)
		if err != nil {
			return err
		}
		if _, ok := auths[prodHost]; ok {
			return fmt.Errorf("entries %v", keys(auths))
		}
		return nil
	})
	src.set(parseSnapshot(t, h.kube("")+"registries: []\n", nil))
	h.noSecret(t, 5*time.Second, teamA)
	h.noSecret(t, 5*time.Second, other)
}

// A Secret of the name that ocicred did not create is never changed; the
// conflict is reported as a Warning Event on it.
func TestForeignSecretUntouched(t *testing.T) {
	src := newFakeSource(nil)
	h := startSink(t, src)
	ns := kubetest.Namespace(t, h.cs, "foreign", nil)
	ctx := context.Background()
	foreign := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: h.secretName, Namespace: ns},
		Type: corev1.SecretTypeOpaque, StringData: map[string]string{"mine": "hands off"}}
	created, err := h.cs.CoreV1().Secrets(ns).Create(ctx, foreign, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mark := kubetest.Namespace(t, h.cs, "foreign-mark", nil)
	src.set(parseSnapshot(t, h.kube("  serviceAccounts: [default]\n")+basicOnly, nil))

	var ev corev1.Event
	kubetest.Eventually(t, 10*time.Second, "a SecretConflict Event on the foreign Secret", func() error {
		list, err := h.cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: fields.Set{
			"involvedObject.kind": "Secret", "involvedObject.name": h.secretName, "reason": ReasonConflict}.String()})
		if err != nil {
			return err
		}
		if len(list.Items) == 0 {
			return fmt.Errorf("no Event yet")
		}
		ev = list.Items[0]
		return nil
	})
	if ev.Type != corev1.EventTypeWarning || ev.InvolvedObject.UID != created.UID {
		t.Errorf("Event = %s %s on %s", ev.Type, ev.Reason, ev.InvolvedObject.UID)
	}
	h.hasEntry(t, 5*time.Second, mark, harborHost, "basic-pw") // the controller has been through every namespace
	// A change later, still untouched.
	src.set(parseSnapshot(t, h.kube("  serviceAccounts: [default]\n")+strings.Replace(basicOnly, "basic-pw", "basic-pw2", 1), nil))
	h.hasEntry(t, 5*time.Second, mark, harborHost, "basic-pw2")
	got, err := h.cs.CoreV1().Secrets(ns).Get(ctx, h.secretName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.ResourceVersion != created.ResourceVersion || string(got.Data["mine"]) != "hands off" {
		t.Errorf("the foreign Secret changed: rv %s → %s, data %v", created.ResourceVersion, got.ResourceVersion, got.Data)
	}
}

// The named ServiceAccounts, existing or created later, list the Secret
// once within 10 s, other entries kept; a namespace that stops matching
// is taken out of them again.
func TestServiceAccounts(t *testing.T) {
	src := newFakeSource(nil)
	h := startSink(t, src)
	ctx := context.Background()
	ns := kubetest.Namespace(t, h.cs, "sa", pull)
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "team-own"}}}
	if _, err := h.cs.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg := h.kube("  namespaceSelector: ocicred.io/pull=true\n  serviceAccounts: [default, builder]\n") + basicOnly
	src.set(parseSnapshot(t, cfg, nil))

	want := func(name string, refs ...string) {
		t.Helper()
		kubetest.Eventually(t, 10*time.Second, "imagePullSecrets of "+name, func() error {
			sa, err := h.cs.CoreV1().ServiceAccounts(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			var got []string
			for _, r := range sa.ImagePullSecrets {
				got = append(got, r.Name)
			}
			if !slices.Equal(got, refs) {
				return fmt.Errorf("%v, want %v", got, refs)
			}
			return nil
		})
	}
	want("default", "team-own", h.secretName)
	// Created later.
	builder := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "builder", Namespace: ns}}
	if _, err := h.cs.CoreV1().ServiceAccounts(ns).Create(ctx, builder, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	want("builder", h.secretName)
	// Not named: left alone.
	other := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: ns}}
	if _, err := h.cs.CoreV1().ServiceAccounts(ns).Create(ctx, other, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// More changes: still listed once.
	src.set(parseSnapshot(t, strings.Replace(cfg, "basic-pw", "basic-pw2", 1), nil))
	h.hasEntry(t, 5*time.Second, ns, harborHost, "basic-pw2")
	want("default", "team-own", h.secretName)
	want("other")
	// Stops matching: the Secret goes, and so does its entry.
	setLabels(t, h.cs, ns, map[string]string{"ocicred.io/pull": "no"})
	h.noSecret(t, 5*time.Second, ns)
	want("default", "team-own")
	want("builder")
}
