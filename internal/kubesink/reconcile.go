package kubesink

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Event reasons.
const (
	ReasonConflict      = "SecretConflict" // a Secret of the name that ocicred did not create
	ReasonRefreshed     = "TokenRefreshed"
	ReasonRefreshFailed = "TokenRefreshFailed"
)

// reconcile makes namespace ns's Secret and ServiceAccounts match the
// snapshot. It returns how long until the Secret's earliest expiry, when
// the namespace must be looked at again even if nothing else changes.
func (s *sink) reconcile(ctx context.Context, name string) (time.Duration, error) {
	snap := s.snap.Load()
	if snap == nil {
		return 0, nil
	}
	ns, err := s.namespaces.Get(name)
	if apierrors.IsNotFound(err) {
		return 0, nil // deleted: its Secret went with it
	}
	if err != nil {
		return 0, err
	}
	if ns.DeletionTimestamp != nil {
		return 0, nil // being deleted: nothing can be written, everything goes
	}
	k := snap.Config.KubernetesSettings()
	existing, err := s.secrets.Secrets(name).Get(s.secretName)
	if apierrors.IsNotFound(err) {
		existing, err = nil, nil
	}
	if err != nil {
		return 0, err
	}
	if existing != nil && !managed(existing) {
		s.conflict(existing)
		return 0, nil
	}
	now := s.now()
	want := desired(snap, name, existing, now)
	if !selects(k, ns) || want.entries == 0 {
		if existing != nil {
			if err := s.deleteSecret(ctx, existing); err != nil {
				return 0, err
			}
		}
		if !selects(k, ns) {
			return 0, s.unlist(ctx, name, k.ServiceAccounts)
		}
		return 0, nil
	}
	if err := s.writeSecret(ctx, existing, secretFor(name, s.secretName, want)); err != nil {
		return 0, err
	}
	if err := s.list(ctx, name, k.ServiceAccounts); err != nil {
		return 0, err
	}
	if want.expiresAt.IsZero() {
		return 0, nil
	}
	return max(want.expiresAt.Sub(now), time.Millisecond), nil
}

// writeSecret creates want, or updates the managed Secret cur to it; no
// call when cur already holds it. Updates carry cur's resourceVersion: a
// concurrent change is a conflict, retried from the informer's newer copy.
func (s *sink) writeSecret(ctx context.Context, cur, want *corev1.Secret) error {
	api := s.client.CoreV1().Secrets(want.Namespace)
	switch {
	case cur == nil:
		_, err := api.Create(ctx, want, metav1.CreateOptions{FieldManager: fieldManager})
		s.metrics.write("create", err)
		if err != nil {
			return fmt.Errorf("create Secret %s/%s: %w", want.Namespace, want.Name, err)
		}
		s.log.Info("pull Secret created", "namespace", want.Namespace, "secret", want.Name, "expiresAt", want.Annotations[ExpiresAtAnnotation])
		return nil
	case cur.Type != want.Type:
		// The type is immutable: replace the Secret (only a managed one gets here).
		if err := s.deleteSecret(ctx, cur); err != nil {
			return err
		}
		return s.writeSecret(ctx, nil, want)
	case upToDate(cur, want):
		return nil
	}
	next := cur.DeepCopy()
	next.Data = want.Data
	if next.Annotations == nil {
		next.Annotations = map[string]string{}
	}
	if v, ok := want.Annotations[ExpiresAtAnnotation]; ok {
		next.Annotations[ExpiresAtAnnotation] = v
	} else {
		delete(next.Annotations, ExpiresAtAnnotation)
	}
	_, err := api.Update(ctx, next, metav1.UpdateOptions{FieldManager: fieldManager})
	s.metrics.write("update", err)
	if err != nil {
		return fmt.Errorf("update Secret %s/%s: %w", cur.Namespace, cur.Name, err)
	}
	s.log.Debug("pull Secret updated", "namespace", cur.Namespace, "secret", cur.Name, "expiresAt", want.Annotations[ExpiresAtAnnotation])
	return nil
}

// deleteSecret deletes the managed Secret cur, on condition that it is
// still the object the informer showed (UID and resourceVersion).
func (s *sink) deleteSecret(ctx context.Context, cur *corev1.Secret) error {
	uid, rv := cur.UID, cur.ResourceVersion
	err := s.client.CoreV1().Secrets(cur.Namespace).Delete(ctx, cur.Name,
		metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv}})
	if apierrors.IsNotFound(err) {
		err = nil
	}
	s.metrics.write("delete", err)
	if err != nil {
		return fmt.Errorf("delete Secret %s/%s: %w", cur.Namespace, cur.Name, err)
	}
	s.log.Info("pull Secret deleted", "namespace", cur.Namespace, "secret", cur.Name)
	return nil
}

// list adds the Secret once to the imagePullSecrets of each named
// ServiceAccount in ns that exists (one created later is queued by its
// informer), keeping the other entries.
func (s *sink) list(ctx context.Context, ns string, accounts []string) error {
	return s.setListed(ctx, ns, accounts, true)
}

// unlist takes the Secret out of the named ServiceAccounts of a namespace
// that is no longer selected.
func (s *sink) unlist(ctx context.Context, ns string, accounts []string) error {
	return s.setListed(ctx, ns, accounts, false)
}

// setListed makes the Secret listed (or not) in the imagePullSecrets of
// each named ServiceAccount of ns that exists, patching only those that
// differ and keeping every other entry.
func (s *sink) setListed(ctx context.Context, ns string, accounts []string, listed bool) error {
	for _, name := range accounts {
		sa, err := s.accounts.ServiceAccounts(ns).Get(name)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		if slices.ContainsFunc(sa.ImagePullSecrets, s.isOurs) == listed {
			continue
		}
		refs := slices.DeleteFunc(slices.Clone(sa.ImagePullSecrets), s.isOurs)
		if listed {
			refs = append(refs, corev1.LocalObjectReference{Name: s.secretName})
		}
		if err := s.patchPullSecrets(ctx, sa, refs); err != nil {
			return err
		}
	}
	return nil
}

func (s *sink) isOurs(r corev1.LocalObjectReference) bool { return r.Name == s.secretName }

// patchPullSecrets sets sa's imagePullSecrets to refs with a merge patch
// that carries sa's resourceVersion, so that an entry someone added since
// the informer saw sa is never lost: the API server answers Conflict and
// the namespace is retried.
func (s *sink) patchPullSecrets(ctx context.Context, sa *corev1.ServiceAccount, refs []corev1.LocalObjectReference) error {
	if refs == nil {
		refs = []corev1.LocalObjectReference{}
	}
	patch, _ := json.Marshal(map[string]any{
		"metadata":         map[string]any{"resourceVersion": sa.ResourceVersion},
		"imagePullSecrets": refs,
	})
	_, err := s.client.CoreV1().ServiceAccounts(sa.Namespace).Patch(ctx, sa.Name, types.MergePatchType, patch,
		metav1.PatchOptions{FieldManager: fieldManager})
	s.metrics.accountPatch(err)
	if err != nil {
		return fmt.Errorf("patch ServiceAccount %s/%s: %w", sa.Namespace, sa.Name, err)
	}
	s.log.Info("ServiceAccount imagePullSecrets patched", "namespace", sa.Namespace, "serviceAccount", sa.Name, "secret", s.secretName)
	return nil
}

// fieldManager names ocicred in managedFields.
const fieldManager = "ocicred"

// conflict reports a Secret of the name that ocicred did not create: once
// per version of it, as a log line and a Warning Event on it.
func (s *sink) conflict(sec *corev1.Secret) {
	if !s.conflicts.first(sec.Namespace, string(sec.UID)+"/"+sec.ResourceVersion) {
		return
	}
	s.metrics.conflicts.Inc()
	s.log.Warn("a Secret of this name exists and ocicred did not create it; leaving it alone",
		"namespace", sec.Namespace, "secret", sec.Name, "label", ManagedByLabel+"="+ManagedByValue)
	s.recorder.Eventf(sec, corev1.EventTypeWarning, ReasonConflict,
		"ocicred leaves this Secret alone: it has no %s=%s label, so ocicred did not create it. Rename or delete it to let ocicred keep its pull Secret here, or set kubernetes.secretName.",
		ManagedByLabel, ManagedByValue)
}

// conflictMemo remembers which foreign Secret versions were reported.
type conflictMemo struct {
	mu   sync.Mutex
	seen map[string]string // namespace → uid/resourceVersion
}

func (m *conflictMemo) first(ns, version string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[string]string{}
	}
	if m.seen[ns] == version {
		return false
	}
	m.seen[ns] = version
	return true
}
