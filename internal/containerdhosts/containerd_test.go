package containerdhosts

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	dockerremote "github.com/containerd/containerd/v2/core/remotes/docker"
	ctdconfig "github.com/containerd/containerd/v2/core/remotes/docker/config"
)

// These tests read ocicred's files with containerd's own code (the
// module, a test-only dependency): its hosts.toml parser and its lookup
// of a host's folder.

// Every golden file, laid out as ocicred lays it out (Folder), is what
// containerd's own hosts parser (ConfigureHosts with HostDirFromRoot, as
// CRI and ctr --hosts-dir use it) takes it to mean: one host, the
// registry's scheme and host, /v2, pull and resolve only, the Basic
// Authorization header, and the TLS settings.
func TestContainerdReadsTheGoldenFiles(t *testing.T) {
	root := t.TempDir()
	ca, caCert := writeCA(t)
	for _, tt := range goldenCases {
		t.Run(tt.name, func(t *testing.T) {
			reg := goldenRegistry(t, tt.registry)
			data, err := os.ReadFile(goldenPath(tt.name))
			if err != nil {
				t.Fatal(err)
			}
			if tt.tls {
				if !bytes.Contains(data, []byte(goldenCA)) {
					t.Fatalf("%s does not name %s", goldenPath(tt.name), goldenCA)
				}
				data = bytes.ReplaceAll(data, []byte(goldenCA), []byte(ca))
			}
			folder := filepath.Join(root, Folder(reg.Host))
			if err := os.MkdirAll(folder, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(folder, FileName), data, FileMode); err != nil {
				t.Fatal(err)
			}

			hosts, err := ctdconfig.ConfigureHosts(context.Background(), ctdconfig.HostOptions{HostDir: ctdconfig.HostDirFromRoot(root)})(reg.Host)
			if err != nil {
				t.Fatalf("containerd refuses %s: %v", goldenPath(tt.name), err)
			}
			if len(hosts) != 1 {
				t.Fatalf("containerd reads %d hosts, want 1", len(hosts))
			}
			h := hosts[0]
			if h.Scheme != tt.scheme || h.Host != tt.host || h.Path != "/v2" {
				t.Errorf("containerd reads %s://%s%s, want %s://%s/v2", h.Scheme, h.Host, h.Path, tt.scheme, tt.host)
			}
			if want := dockerremote.HostCapabilityPull | dockerremote.HostCapabilityResolve; h.Capabilities != want {
				t.Errorf("capabilities %b, want pull and resolve (%b)", h.Capabilities, want)
			}
			want := "Basic " + base64.StdEncoding.EncodeToString([]byte(tt.user+":"+tt.pass))
			if got := h.Header.Values("Authorization"); len(got) != 1 || got[0] != want {
				t.Errorf("Authorization header: %d values, not Basic %s:<the password>", len(got), tt.user)
			}
			tr, _ := h.Client.Transport.(*http.Transport)
			switch {
			case tr == nil:
				t.Errorf("containerd's client transport is a %T", h.Client.Transport)
			case tt.tls:
				if !tr.TLSClientConfig.InsecureSkipVerify {
					t.Error("skip_verify did not reach containerd's TLS config")
				}
				if _, err := caCert.Verify(x509.VerifyOptions{Roots: tr.TLSClientConfig.RootCAs}); err != nil {
					t.Errorf("the CA did not reach containerd's TLS config: %v", err)
				}
			case tr.TLSClientConfig != nil && (tr.TLSClientConfig.InsecureSkipVerify || tr.TLSClientConfig.RootCAs != nil):
				t.Error("containerd got TLS settings the config does not have")
			}
		})
	}
}

// writeCA writes a self-signed CA certificate into a temp folder and
// returns its path and the certificate.
func writeCA(t *testing.T) (string, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ocicred test CA"},
		NotBefore:             time.Unix(0, 0),
		NotAfter:              time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, cert
}

// ContainerdFolders is containerd's own lookup order: with every candidate
// folder present, containerd takes the first; without it, the next.
func TestContainerdFoldersIsContainerdsRule(t *testing.T) {
	for _, host := range []string{"registry.example", "127.0.0.1:5000", "[::1]:5000", "[::1]", "corp.example:8443", "docker.io"} {
		root := t.TempDir()
		folders := ContainerdFolders(host)
		if folders[len(folders)-1] != "_default" || !slices.Contains(folders, Folder(host)) {
			t.Errorf("%s: folders %q do not end with _default or do not hold %q", host, folders, Folder(host))
		}
		for _, f := range folders {
			if err := os.MkdirAll(filepath.Join(root, f), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, want := range folders {
			got, err := ctdconfig.HostDirFromRoot(root)(host)
			if err != nil || got != filepath.Join(root, want) {
				t.Errorf("%s: containerd reads %s (%v), ContainerdFolders says %s", host, got, err, want)
			}
			if err := os.Remove(filepath.Join(root, want)); err != nil {
				t.Fatal(err)
			}
		}
	}
}
