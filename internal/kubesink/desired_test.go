package kubesink

import (
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/secret"
)

const twoRegistries = `
registries:
  - name: harbor
    type: basic
    endpoint: harbor.example.com:8443
    username: robot
    password: basic-pw
  - name: prod
    type: ecr
    endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com
    namespaces: [team-a]
  - name: gallery
    type: ecr
    endpoint: public.ecr.aws
    protected: false
`

const prodHost = "123456789012.dkr.ecr.us-west-2.amazonaws.com"

// parseSnapshot parses a config and pairs it with tokens.
func parseSnapshot(t testing.TB, yaml string, tokens map[string]creds.Token) *Snapshot {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.ResolveSecrets(config.OS); err != nil {
		t.Fatal(err)
	}
	return &Snapshot{Config: cfg, Tokens: tokens}
}

func decode(t testing.TB, c content) map[string]dockerAuth {
	t.Helper()
	var dc dockerConfig
	if err := json.Unmarshal(c.data, &dc); err != nil {
		t.Fatal(err)
	}
	return dc.Auths
}

func TestDesired(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	exp := now.Add(6 * time.Hour)
	good := map[string]creds.Token{"prod": {Password: secret.New("ecr-pw"), ExpiresAt: exp}}
	expired := map[string]creds.Token{"prod": {Password: secret.New("ecr-pw"), ExpiresAt: now}}

	// team-a may use prod; the unprotected registry never has an entry.
	c := desired(parseSnapshot(t, twoRegistries, good), "team-a", nil, now)
	auths := decode(t, c)
	if len(auths) != 2 || c.entries != 2 || !c.expiresAt.Equal(exp) {
		t.Fatalf("team-a: %d entries, expires %v: %v", c.entries, c.expiresAt, auths)
	}
	if a := auths[prodHost]; a.Username != "AWS" || a.Password != "ecr-pw" || a.Auth != "QVdTOmVjci1wdw==" {
		t.Errorf("prod entry = %+v", a)
	}
	if a := auths["harbor.example.com:8443"]; a.Username != "robot" || a.Password != "basic-pw" {
		t.Errorf("harbor entry = %+v", a)
	}
	// team-b may not; Basic alone does not expire.
	c = desired(parseSnapshot(t, twoRegistries, good), "team-b", nil, now)
	if auths := decode(t, c); len(auths) != 1 || !c.expiresAt.IsZero() {
		t.Errorf("team-b: %v, expires %v", auths, c.expiresAt)
	}
	if s := secretFor("team-b", "p", c); s.Annotations[ExpiresAtAnnotation] != "" || s.Type != corev1.SecretTypeDockerConfigJson {
		t.Errorf("Basic-only Secret = %+v", s)
	}
	// An expired token is never written.
	c = desired(parseSnapshot(t, twoRegistries, expired), "team-a", nil, now)
	if _, ok := decode(t, c)[prodHost]; ok {
		t.Error("expired token written")
	}
}

// A registry the engine has no token for yet keeps the existing Secret's
// entry while the Secret's expires-at lies ahead, never after; a registry
// whose token expired loses its entry whatever the Secret says.
func TestDesiredCarriesOverUntilExpiry(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	prev := desired(parseSnapshot(t, twoRegistries, map[string]creds.Token{"prod": {Password: secret.New("old-pw"), ExpiresAt: now.Add(time.Hour)}}), "team-a", nil, now)
	existing := secretFor("team-a", "p", prev)
	none := parseSnapshot(t, twoRegistries, nil)

	c := desired(none, "team-a", existing, now.Add(59*time.Minute))
	if a := decode(t, c)[prodHost]; a.Password != "old-pw" || !c.expiresAt.Equal(now.Add(time.Hour)) {
		t.Errorf("before expiry: entry %+v, expires %v", a, c.expiresAt)
	}
	c = desired(none, "team-a", existing, now.Add(time.Hour))
	if _, ok := decode(t, c)[prodHost]; ok || c.entries != 1 {
		t.Errorf("at expiry the carried entry must go: %d entries", c.entries)
	}
	stale := parseSnapshot(t, twoRegistries, map[string]creds.Token{"prod": {Password: secret.New("old-pw"), ExpiresAt: now.Add(time.Minute)}})
	if _, ok := decode(t, desired(stale, "team-a", existing, now.Add(2*time.Minute)))[prodHost]; ok {
		t.Error("an expired engine token was replaced by the Secret's old entry")
	}
}

func TestSelects(t *testing.T) {
	ns := func(name string, labels map[string]string) *corev1.Namespace {
		n := &corev1.Namespace{}
		n.Name, n.Labels = name, labels
		return n
	}
	all := config.Kubernetes{}
	sel := config.Kubernetes{NamespaceSelector: "ocicred.io/pull=true"}
	tests := []struct {
		k    config.Kubernetes
		ns   *corev1.Namespace
		want bool
	}{
		{all, ns("team-a", nil), true},
		{all, ns("kube-system", nil), false},
		{all, ns("kube-public", nil), false},
		{all, ns("kube-node-lease", nil), false},
		{sel, ns("team-a", nil), false},
		{sel, ns("team-a", map[string]string{"ocicred.io/pull": "true"}), true},
		{sel, ns("kube-system", map[string]string{"ocicred.io/pull": "true"}), true},
		{sel, ns("team-a", map[string]string{"ocicred.io/pull": "false"}), false},
	}
	for _, tt := range tests {
		if got := selects(tt.k, tt.ns); got != tt.want {
			t.Errorf("selects(%q, %s %v) = %v", tt.k.NamespaceSelector, tt.ns.Name, tt.ns.Labels, got)
		}
	}
}
