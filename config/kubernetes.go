package config

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Defaults of the kubernetes section (spec, "Kubernetes: ocicred controller").
const (
	DefaultSecretName     = "ocicred-pull"
	DefaultLeaseNamespace = "ocicred"
	DefaultLeaseName      = "ocicred-controller"
)

// SystemNamespaces are left out when namespaceSelector is absent.
var SystemNamespaces = []string{"kube-system", "kube-public", "kube-node-lease"}

// Kubernetes configures `ocicred controller`: which namespaces get a pull
// Secret, its name, the ServiceAccounts that list it, and the Lease the
// replicas elect a leader with. Read it through the methods, which apply
// the defaults; the fields hold what the file says.
type Kubernetes struct {
	SecretName string `yaml:"secretName"`
	// NamespaceSelector is a label selector such as "ocicred.io/pull=true";
	// empty: every namespace but SystemNamespaces.
	NamespaceSelector string          `yaml:"namespaceSelector"`
	ServiceAccounts   []string        `yaml:"serviceAccounts"`
	LeaderElection    *LeaderElection `yaml:"leaderElection"`
}

// LeaderElection names the coordination.k8s.io Lease of the controller.
type LeaderElection struct {
	Namespace string `yaml:"namespace"`
	Name      string `yaml:"name"`
}

// KubernetesSettings is c's kubernetes section with every default applied;
// a file without one gets all defaults.
func (c *Config) KubernetesSettings() Kubernetes {
	k := Kubernetes{}
	if c.Kubernetes != nil {
		k = *c.Kubernetes
	}
	le := LeaderElection{}
	if k.LeaderElection != nil {
		le = *k.LeaderElection
	}
	k.SecretName = firstSet(k.SecretName, DefaultSecretName)
	le.Namespace = firstSet(le.Namespace, DefaultLeaseNamespace)
	le.Name = firstSet(le.Name, DefaultLeaseName)
	k.LeaderElection = &le
	return k
}

// Selector is the parsed NamespaceSelector, and whether one was given.
// Parse has checked it, so the error is only for a hand-built Kubernetes.
func (k Kubernetes) Selector() (labels.Selector, bool, error) {
	if strings.TrimSpace(k.NamespaceSelector) == "" {
		return labels.Everything(), false, nil
	}
	sel, err := labels.Parse(k.NamespaceSelector)
	return sel, true, err
}

func firstSet(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// kubernetes checks the kubernetes section against the API server's own
// name rules (apimachinery's validation), so that the controller never
// learns of a bad name from a refused write.
func (v *checker) kubernetes(k *Kubernetes) {
	if k == nil {
		return
	}
	if k.SecretName != "" {
		v.dnsSubdomain("kubernetes.secretName", k.SecretName, "a Secret name")
	}
	if _, _, err := k.Selector(); err != nil {
		v.errf("kubernetes.namespaceSelector", "is not a label selector (%v); write key=value, key!=value, key in (a,b) or key, comma-separated, such as ocicred.io/pull=true", err)
	}
	seen := map[string]bool{}
	for i, sa := range k.ServiceAccounts {
		p := fmt.Sprintf("kubernetes.serviceAccounts[%d]", i)
		v.dnsSubdomain(p, sa, "a ServiceAccount name")
		if seen[sa] {
			v.errf(p, "is listed twice; keep one")
		}
		seen[sa] = true
	}
	if le := k.LeaderElection; le != nil {
		if le.Namespace != "" {
			v.dnsLabel("kubernetes.leaderElection.namespace", le.Namespace, "a namespace name")
		}
		if le.Name != "" {
			v.dnsSubdomain("kubernetes.leaderElection.name", le.Name, "a Lease name")
		}
	}
}

// namespaces checks a registry's namespaces list.
func (v *checker) namespaces(names []string, p string) {
	seen := map[string]bool{}
	for i, ns := range names {
		f := fmt.Sprintf("%s[%d]", p, i)
		v.dnsLabel(f, ns, "a namespace name")
		if seen[ns] {
			v.errf(f, "is listed twice; keep one")
		}
		seen[ns] = true
	}
}

func (v *checker) dnsSubdomain(path, s, what string) {
	if len(validation.IsDNS1123Subdomain(s)) > 0 {
		v.errf(path, "is not %s: write lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters", what)
	}
}

func (v *checker) dnsLabel(path, s, what string) {
	if len(validation.IsDNS1123Label(s)) > 0 {
		v.errf(path, "is not %s: write lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters", what)
	}
}
