package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ocicred/ocicred/internal/localapi"
	"github.com/ocicred/ocicred/test/testenv"
)

const clientEnv = "OCICRED_TEST_CLIENT_SOCKET"

// runAsClient is this test binary re-run as another user: it asks the
// daemon for the server in OCICRED_TEST_SERVER and prints what it got.
func runAsClient() int {
	got, err := localapi.NewClient(os.Getenv(clientEnv)).Credentials(context.Background(), os.Getenv("OCICRED_TEST_SERVER"))
	switch {
	case err == nil:
		fmt.Println("ok:" + got.Username)
	case errors.Is(err, localapi.ErrNotFound):
		fmt.Println("notfound")
	case errors.Is(err, localapi.ErrUnreachable):
		fmt.Println("unreachable")
	default:
		fmt.Println("error:" + err.Error())
	}
	return 0
}

// publicCopy copies this test binary where other users may run it (go
// test builds it in a folder only root can enter).
func publicCopy(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "client.test")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// askAs runs the client as uid:gid and returns its one-line answer.
func askAs(t *testing.T, bin, socket, server string, uid, gid uint32) string {
	t.Helper()
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), clientEnv+"="+socket, "OCICRED_TEST_SERVER="+server)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("client as %d: %v: %s", uid, err, out)
	}
	return strings.TrimSpace(string(out))
}

// Real processes of other users against the real socket: the socket's
// mode and group keep strangers out, SO_PEERCRED fails closed behind it,
// and allow lists filter what an admitted caller gets.
func TestCallerAccess(t *testing.T) {
	testenv.RequireRoot(t, "runs clients as other users")
	const nobody, stranger = 65534, 65533
	cfg := "socketGroup: \"65534\"\nregistries:\n" + basicConfig("open", "open.example", "pw-open") +
		"  - {name: restricted, type: basic, endpoint: restricted.example, username: u, password: pw-restricted, allow: [root]}\n"
	td := startDaemon(t, cfg)
	for _, dir := range []string{td.dir, strings.TrimSuffix(td.dir, "/001")} {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := publicCopy(t, td.dir)

	if got := askAs(t, bin, td.socket, "open.example", nobody, nobody); got != "ok:user-open" {
		t.Errorf("socket-group member, open registry: %s", got)
	}
	if got := askAs(t, bin, td.socket, "restricted.example", nobody, nobody); got != "notfound" {
		t.Errorf("socket-group member, registry allowing root only: %s", got)
	}
	if !strings.Contains(td.logs.String(), `msg="refused caller" uid=65534`) ||
		!strings.Contains(td.logs.String(), "registry=restricted") {
		t.Errorf("refusal not logged with uid and registry:\n%s", td.logs.String())
	}
	if got := askAs(t, bin, td.socket, "open.example", stranger, stranger); got != "unreachable" {
		t.Errorf("stranger through a 0660 socket: %s", got)
	}
	// Even when the socket's mode lets a stranger connect, the daemon
	// refuses by SO_PEERCRED.
	if err := os.Chmod(td.socket, 0o666); err != nil {
		t.Fatal(err)
	}
	if got := askAs(t, bin, td.socket, "open.example", stranger, stranger); !strings.HasPrefix(got, "error:this user may not ask") {
		t.Errorf("stranger through a 0666 socket: %s", got)
	}
	// Root has everything.
	if got, err := td.client.Credentials(context.Background(), "restricted.example"); err != nil || got.Secret != "pw-restricted" {
		t.Errorf("root, restricted: %+v, %v", got, err)
	}
	for _, pw := range []string{"pw-open", "pw-restricted"} {
		if strings.Contains(td.logs.String(), pw) {
			t.Errorf("secret %s reached the log", pw)
		}
	}
}
