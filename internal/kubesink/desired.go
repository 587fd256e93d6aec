package kubesink

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ocicred/ocicred/config"
)

// The Secret's marks (spec, "Kubernetes: ocicred controller").
const (
	// ManagedByLabel set to ManagedByValue marks a Secret ocicred wrote and
	// may change; a Secret of the name without it is never touched.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedByValue = "ocicred"
	// ExpiresAtAnnotation is the earliest expiry of the Secret's expiring
	// entries, RFC 3339; absent when none expires (Basic only).
	ExpiresAtAnnotation = "ocicred.io/expires-at"
)

// dockerConfig is the .dockerconfigjson document.
type dockerConfig struct {
	Auths map[string]dockerAuth `json:"auths"`
}

// dockerAuth is one registry's entry: the fields docker and the kubelet read.
type dockerAuth struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Auth     string `json:"auth"`
}

// content is what one namespace's Secret should hold.
type content struct {
	data      []byte    // the .dockerconfigjson bytes; encoding/json sorts the hosts
	entries   int       // registries in it; 0: the namespace needs no Secret
	expiresAt time.Time // earliest expiry among expiring entries; zero: none
}

// selects reports whether the kubernetes settings select namespace ns:
// by the label selector, or, without one, every namespace but the system
// ones. A namespace being deleted is never selected.
func selects(k config.Kubernetes, ns *corev1.Namespace) bool {
	if ns.DeletionTimestamp != nil || ns.Status.Phase == corev1.NamespaceTerminating {
		return false
	}
	sel, given, err := k.Selector()
	if err != nil {
		return false // Parse refused such a file; select nothing rather than everything
	}
	if !given {
		return !slices.Contains(config.SystemNamespaces, ns.Name)
	}
	return sel.Matches(labels.Set(ns.Labels))
}

// desired computes namespace ns's Secret at now from snap. A registry goes
// in when it has credentials, the namespace may use it (its namespaces
// list, when given, names ns), and, for ECR, its token has not expired.
//
// A protected registry for which the engine has no token at all (it has
// not answered yet in this process, as after a leader change) keeps the
// entry the existing Secret has for its host, while the Secret's
// expires-at says every entry in it is still good: a new leader never
// drops a working credential that it merely has not fetched yet, and never
// keeps one past the earliest expiry it knows of.
func desired(snap *Snapshot, ns string, existing *corev1.Secret, now time.Time) content {
	var old dockerConfig
	var oldExpiry time.Time
	if existing != nil {
		_ = json.Unmarshal(existing.Data[corev1.DockerConfigJsonKey], &old) // garbage: nothing to keep
		oldExpiry, _ = time.Parse(time.RFC3339, existing.Annotations[ExpiresAtAnnotation])
	}
	out := dockerConfig{Auths: map[string]dockerAuth{}}
	var earliest time.Time
	expiring := func(t time.Time) {
		if earliest.IsZero() || t.Before(earliest) {
			earliest = t
		}
	}
	for _, r := range snap.Config.Registries {
		if len(r.Namespaces) > 0 && !slices.Contains(r.Namespaces, ns) {
			continue
		}
		switch {
		case r.Type == config.TypeBasic:
			out.Auths[r.Host] = auth(r.Username, r.BasicPassword().Reveal())
		case !r.IsProtected():
			// anonymous pulls need no entry
		default:
			tok, ok := snap.Tokens[r.Name]
			switch {
			case ok && now.Before(tok.ExpiresAt):
				out.Auths[r.Host] = auth(r.User(), tok.Password.Reveal())
				expiring(tok.ExpiresAt)
			case !ok && now.Before(oldExpiry):
				if a, had := old.Auths[r.Host]; had {
					out.Auths[r.Host] = a
					expiring(oldExpiry)
				}
			}
		}
	}
	data, _ := json.Marshal(out) // strings and maps only: cannot fail
	return content{data: data, entries: len(out.Auths), expiresAt: earliest}
}

func auth(user, password string) dockerAuth {
	return dockerAuth{Username: user, Password: password,
		Auth: base64.StdEncoding.EncodeToString([]byte(user + ":" + password))}
}

// secretFor is the Secret object holding c, named name in namespace ns.
func secretFor(ns, name string, c content) *corev1.Secret {
	s := &corev1.Secret{
		Type: corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: c.data},
	}
	s.Namespace, s.Name = ns, name
	s.Labels = map[string]string{ManagedByLabel: ManagedByValue}
	if !c.expiresAt.IsZero() {
		s.Annotations = map[string]string{ExpiresAtAnnotation: c.expiresAt.UTC().Format(time.RFC3339)}
	}
	return s
}

// managed reports whether ocicred wrote s.
func managed(s *corev1.Secret) bool { return s.Labels[ManagedByLabel] == ManagedByValue }

// upToDate reports whether the managed Secret cur already holds want, so
// that a reconcile that changes nothing writes nothing. Other labels and
// annotations (someone else's) are left as they are.
func upToDate(cur, want *corev1.Secret) bool {
	return cur.Type == want.Type && len(cur.Data) == 1 &&
		string(cur.Data[corev1.DockerConfigJsonKey]) == string(want.Data[corev1.DockerConfigJsonKey]) &&
		cur.Annotations[ExpiresAtAnnotation] == want.Annotations[ExpiresAtAnnotation]
}
