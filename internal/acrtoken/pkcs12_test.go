package acrtoken

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocicred/ocicred/test/azfake"
	"github.com/ocicred/ocicred/test/testenv"
)

// TestCertificatePassword: with certificatePasswordFile, azidentity reads
// certificateFile as PKCS#12 (it cannot decrypt a PEM key); the password
// opens it, a wrong one is a certificate failure that names no password.
func TestCertificatePassword(t *testing.T) {
	openssl := testenv.Tool(t, "openssl")
	w := start(t, nil)
	cert, pemBytes, _ := azfake.NewCertificate("pkcs12")
	w.fake.AddClientCertificate(tenant, appID, cert)
	w.reg.Grant(appID)
	dir := t.TempDir()
	pemPath := filepath.Join(dir, "c.pem")
	p12 := filepath.Join(dir, "c.p12")
	if err := os.WriteFile(pemPath, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	const password = "p12-password-never-printed"
	// SHA-1 MAC and 3DES: what azidentity's PKCS#12 reader takes.
	out, err := exec.Command(openssl, "pkcs12", "-export", "-in", pemPath, "-out", p12, "-passout", "pass:"+password,
		"-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl: %v\n%s", err, out)
	}
	if err := os.Chmod(p12, 0o600); err != nil {
		t.Fatal(err)
	}
	pwPath := writeFile(t, "pw", []byte(password+"\n"))
	reg := w.registry(t, w.reg, "    tenantId: "+tenant+"\n",
		"{type: clientCertificate, clientId: "+appID+", certificateFile: "+p12+", certificatePasswordFile: "+pwPath+"}", nil)
	if _, err := w.f.Fetch(testCtx(t), reg); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if err := os.WriteFile(pwPath, []byte("wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = w.f.Fetch(testCtx(t), reg)
	f := wantFailure(t, err, KindBadCertificate, "")
	checkNoSecret(t, w, f.Msg)
	if containsAny(f.Msg, password, "wrong") {
		t.Errorf("the message shows a password: %s", f.Msg)
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if len(sub) > 0 && strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
