package gartoken

import (
	"strings"
	"testing"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/test/gcpfake"
)

// parseGAR parses one gar registry at endpoint with a credentials block.
func parseGAR(t *testing.T, endpoint, creds string) *config.Registry {
	t.Helper()
	yaml := "registries:\n  - name: r\n    type: gar\n    endpoint: " + endpoint + "\n"
	if creds != "" {
		yaml += "    credentials: " + creds + "\n"
	}
	cfg, err := config.Parse([]byte(yaml), "c.yaml")
	if err != nil {
		t.Fatalf("config:\n%s\n%v", yaml, err)
	}
	if err := cfg.ResolveSecrets(config.OS); err != nil {
		t.Fatal(err)
	}
	return cfg.Registries[0]
}

// TestKeyOf: one identity has one key on every Google registry host;
// another key, account, base, lifetime, file or scope set is another
// identity; the order of scopes is not.
func TestKeyOf(t *testing.T) {
	srv := gcpfake.Start(t)
	k1, k2 := srv.NewKey(testSA), srv.NewKey(testSA)
	f1, f2 := writeFile(t, "k1.json", k1.JSON()), writeFile(t, "k2.json", k2.JSON())
	key1 := "{type: serviceAccountKey, keyFile: " + f1 + "}"
	same := []string{"gcr.io", "eu.gcr.io", "europe-west3-docker.pkg.dev", "docker.us-central1.rep.pkg.dev"}
	want := KeyOf(parseGAR(t, same[0], key1))
	for _, host := range same {
		if got := KeyOf(parseGAR(t, host, key1)); got != want {
			t.Errorf("%s: key %s, want %s (one identity, one token)", host, got, want)
		}
	}
	if !strings.HasPrefix(string(want), "gar:") || len(want) != len("gar:")+32 {
		t.Errorf("key %q, want gar: and 32 hex digits", want)
	}
	scoped := func(s string) string {
		return "{type: serviceAccountKey, keyFile: " + f1 + ", scopes: [" + s + "]}"
	}
	a, b := "https://www.googleapis.com/auth/cloud-platform", "https://www.googleapis.com/auth/devstorage.read_only"
	if KeyOf(parseGAR(t, "gcr.io", scoped(a+", "+b))) != KeyOf(parseGAR(t, "gcr.io", scoped(b+", "+a))) {
		t.Error("the order of scopes made another identity")
	}
	if KeyOf(parseGAR(t, "gcr.io", scoped(a))) != want {
		t.Error("the default scope, written out, made another identity")
	}
	imp := func(sa, life, base string) string {
		return "{type: impersonate, serviceAccount: " + sa + ", lifetime: " + life + ", base: " + base + "}"
	}
	distinct := map[string]string{
		"key 1":                    key1,
		"key 2, same account":      "{type: serviceAccountKey, keyFile: " + f2 + "}",
		"another scope":            scoped(b),
		"default":                  "",
		"impersonate":              imp(testTarget, "1h", "{type: default}"),
		"impersonate 30m":          imp(testTarget, "30m", "{type: default}"),
		"impersonate other":        imp(testSA, "1h", "{type: default}"),
		"impersonate key base":     imp(testTarget, "1h", key1),
		"workloadIdentity":         "{type: workloadIdentity, configFile: /etc/ocicred/a.json}",
		"workloadIdentity (b)":     "{type: workloadIdentity, configFile: /etc/ocicred/b.json}",
		"default, devstorage":      "{type: default, scopes: [" + b + "]}",
		"impersonate, base scopes": imp(testTarget, "1h", "{type: default, scopes: ["+b+"]}"),
	}
	seen := map[Key]string{}
	for name, c := range distinct {
		k := KeyOf(parseGAR(t, "gcr.io", c))
		if other, dup := seen[k]; dup {
			t.Errorf("%s and %s share a key", name, other)
		}
		seen[k] = name
	}
	if KeyOf(parseGAR(t, "gcr.io", "")) != KeyOf(parseGAR(t, "gcr.io", "{type: default}")) {
		t.Error("no credentials and type default are different identities")
	}
	noLeak(t, []string{pemBody(string(k1.JSON()))}, string(want))
}

// TestDescribe: one line naming the identity, no secret.
func TestDescribe(t *testing.T) {
	srv := gcpfake.Start(t)
	k := srv.NewKey(testSA)
	f := writeFile(t, "k.json", k.JSON())
	for creds, want := range map[string]string{
		"": "default chain",
		"{type: serviceAccountKey, keyFile: " + f + "}":                                                                "serviceAccountKey " + testSA + " (" + f + ")",
		"{type: impersonate, serviceAccount: " + testTarget + "}":                                                      "impersonate " + testTarget + " as default chain",
		"{type: workloadIdentity, configFile: /etc/ocicred/wif.json}":                                                  "workloadIdentity /etc/ocicred/wif.json",
		"{type: impersonate, serviceAccount: " + testTarget + ", base: {type: serviceAccountKey, keyFile: " + f + "}}": "impersonate " + testTarget + " as serviceAccountKey " + testSA + " (" + f + ")",
	} {
		reg := parseGAR(t, "gcr.io", creds)
		got := Describe(reg)
		if got != want {
			t.Errorf("Describe(%s) = %q, want %q", creds, got, want)
		}
		noLeak(t, []string{pemBody(string(k.JSON()))}, got)
	}
	t.Setenv("OCICRED_TEST_KEY", string(k.JSON()))
	if got := Describe(parseGAR(t, "gcr.io", "{type: serviceAccountKey, keyEnv: OCICRED_TEST_KEY}")); got != "serviceAccountKey "+testSA+" ($OCICRED_TEST_KEY)" {
		t.Errorf("keyEnv: %q", got)
	}
	if Username != config.UserGAR {
		t.Errorf("Username %q", Username)
	}
}
