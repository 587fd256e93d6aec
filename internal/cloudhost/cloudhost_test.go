package cloudhost

import "testing"

func TestGoogle(t *testing.T) {
	for host, want := range map[string]bool{
		"gcr.io":                         true,
		"eu.gcr.io":                      true,
		"Marketplace.GCR.io":             true,
		"europe-west3-docker.pkg.dev":    true,
		"us-docker.pkg.dev":              true,
		"docker.us-central1.rep.pkg.dev": true,
		"container.cloud.google.com":     true,
		"gcr.io:443":                     false,
		"gcr.io.evil.com":                false,
		"evilgcr.io":                     false,
		"a.b.gcr.io":                     false,
		"-docker.pkg.dev":                false,
		"us-docker.pkg.dev.evil.com":     false,
		"docker.pkg.dev":                 false,
		"docker.a.b.rep.pkg.dev":         false,
		"europe-docker.pkg.dev.":         false,
		"contoso.azurecr.io":             false,
	} {
		if got := Google(host); got != want {
			t.Errorf("Google(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestAzure(t *testing.T) {
	for host, want := range map[string]bool{
		"contoso.azurecr.io":                 true,
		"contoso-abc123.azurecr.io":          true,
		"Contoso.AzureCR.cn":                 true,
		"contoso.azurecr.us":                 true,
		"evil.azurecr.io.attacker.com":       false,
		"contoso.azurecr.io:443":             false,
		"azurecr.io":                         false,
		"a.b.azurecr.io":                     false,
		"contoso.westeurope.data.azurecr.io": false,
		"contoso_x.azurecr.io":               false,
		"contosoazurecr.io":                  false,
		"gcr.io":                             false,
	} {
		if got := Azure(host); got != want {
			t.Errorf("Azure(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1:5000":    true,
		"127.8.9.1":         true,
		"[::1]:5000":        true,
		"localhost:5000":    true,
		"LOCALHOST":         true,
		"10.0.0.1:5000":     false,
		"localhost.evil.io": false,
		"gcr.io":            false,
	} {
		if got := Loopback(host); got != want {
			t.Errorf("Loopback(%q) = %v, want %v", host, got, want)
		}
	}
}
