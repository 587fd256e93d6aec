package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// The spec's kubernetes example, with a registry limited to two namespaces.
const kubeExample = `
kubernetes:
  secretName: ocicred-pull
  namespaceSelector: "ocicred.io/pull=true"
  serviceAccounts: [default]
  leaderElection:
    namespace: ocicred
    name: ocicred-controller
registries:
  - name: prod
    type: ecr
    endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com
    namespaces: [team-a, team-b]
`

func TestParseKubernetesExample(t *testing.T) {
	c, err := Parse([]byte(kubeExample), "c.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	k := c.KubernetesSettings()
	if k.SecretName != "ocicred-pull" || !slices.Equal(k.ServiceAccounts, []string{"default"}) ||
		k.LeaderElection.Namespace != "ocicred" || k.LeaderElection.Name != "ocicred-controller" {
		t.Errorf("settings = %+v", k)
	}
	sel, given, err := k.Selector()
	if err != nil || !given || sel.String() != "ocicred.io/pull=true" {
		t.Errorf("Selector() = %v, %v, %v", sel, given, err)
	}
	if got := c.Registries[0].Namespaces; !slices.Equal(got, []string{"team-a", "team-b"}) {
		t.Errorf("namespaces = %v", got)
	}
}

// A file without a kubernetes section gets the spec's defaults: every
// namespace (no selector), the Secret ocicred-pull, the Lease
// ocicred/ocicred-controller, ServiceAccounts left alone.
func TestKubernetesDefaults(t *testing.T) {
	for _, in := range []string{"registries: []\n", "kubernetes: {}\n", "kubernetes:\n  leaderElection: {name: x}\n"} {
		c, err := Parse([]byte(in), "c.yaml")
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		k := c.KubernetesSettings()
		wantName := DefaultLeaseName
		if strings.Contains(in, "name: x") {
			wantName = "x"
		}
		if k.SecretName != DefaultSecretName || k.ServiceAccounts != nil ||
			k.LeaderElection.Namespace != DefaultLeaseNamespace || k.LeaderElection.Name != wantName {
			t.Errorf("%q: settings = %+v %+v", in, k, k.LeaderElection)
		}
		if _, given, err := k.Selector(); given || err != nil {
			t.Errorf("%q: a selector is given: %v", in, err)
		}
	}
	if c, _ := Parse([]byte(kubeExample), "c.yaml"); c.Kubernetes.LeaderElection.Name != "ocicred-controller" {
		t.Error("KubernetesSettings changed the parsed config")
	}
}

func TestParseKubernetesErrors(t *testing.T) {
	reg := "registries:\n  - name: a\n    type: ecr\n    endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com\n"
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"bad selector", "kubernetes:\n  namespaceSelector: \"a in (b\"\n",
			[]string{`c.yaml:2:22: kubernetes.namespaceSelector: is not a label selector (unable to parse requirement: found '', expected: ',' or ')'); write key=value, key!=value, key in (a,b) or key, comma-separated, such as ocicred.io/pull=true`}},
		{"bad names", "kubernetes:\n  secretName: Pull_Secret\n  serviceAccounts: [default, default, \"\"]\n  leaderElection: {namespace: a.b, name: ok}\n",
			[]string{`c.yaml:2:15: kubernetes.secretName: is not a Secret name: write lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters`,
				`c.yaml:3:30: kubernetes.serviceAccounts[1]: is listed twice; keep one`,
				`c.yaml:3:39: kubernetes.serviceAccounts[2]: is not a ServiceAccount name: write lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters`,
				`c.yaml:4:31: kubernetes.leaderElection.namespace: is not a namespace name: write lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters`}},
		{"unknown kubernetes field", "kubernetes:\n  secretname: x\n",
			[]string{`c.yaml:2:3: kubernetes.secretname: unknown field; did you mean "secretName"?`}},
		{"registry namespaces", reg + "    namespaces: [team-a, Team_B, team-a]\n",
			[]string{`c.yaml:5:26: registries[0].namespaces[1]: is not a namespace name: write lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters`,
				`c.yaml:5:34: registries[0].namespaces[2]: is listed twice; keep one`}},
		{"namespaces not a list", reg + "    namespaces: team-a\n",
			[]string{`c.yaml:5:17: registries[0].namespaces: must be a list, not a single value`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), "c.yaml")
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("Parse error = %v (%T), want Errors", err, err)
			}
			if got := es.Error(); got != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", got, strings.Join(tt.want, "\n"))
			}
		})
	}
}
