package systemd

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocicred/ocicred/test/testenv"
)

func TestUnitHasTheContract(t *testing.T) {
	for _, line := range []string{
		"Type=notify", "ExecStart=/usr/bin/ocicred daemon", "ExecReload=/bin/kill -HUP $MAINPID",
		"Restart=on-failure", "RuntimeDirectory=ocicred", "StateDirectory=ocicred", "StateDirectoryMode=0700",
		"CapabilityBoundingSet=\n", "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
		"RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "SupplementaryGroups=ocicred\n", "SystemCallFilter=@chown\n",
	} {
		if !strings.Contains(Unit, line) {
			t.Errorf("unit lacks %q", line)
		}
	}
}

// systemd-analyze verify checks the unit the way systemd reads it; the
// ExecStart binary must exist, so a stand-in is put at a temp path.
func TestUnitVerifies(t *testing.T) {
	analyze := testenv.Tool(t, "systemd-analyze")
	dir := t.TempDir()
	bin := filepath.Join(dir, "ocicred")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(dir, "ocicred.service")
	if err := os.WriteFile(unit, []byte(strings.ReplaceAll(Unit, "/usr/bin/ocicred", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", unit).CombinedOutput()
	if err != nil || strings.Contains(string(out), "ocicred.service:") {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
