package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocicred/ocicred/systemd"
)

// The unit kardianos/service installs is systemd/ocicred.service byte for
// byte: it is passed as SystemdScript and holds no template placeholder
// that kardianos' renderer would change.
func TestServiceInstallsTheShippedUnit(t *testing.T) {
	c := serviceConfig()
	if got := c.Option["SystemdScript"]; got != systemd.Unit {
		t.Fatal("SystemdScript is not systemd/ocicred.service")
	}
	if strings.Contains(systemd.Unit, "{{") {
		t.Error("the unit holds template syntax, so what is installed differs from the file")
	}
	if c.Name != "ocicred" || c.Executable != installedBinary || !strings.Contains(systemd.Unit, "ExecStart="+installedBinary+" daemon") {
		t.Errorf("config %+v does not match the unit's ExecStart", c)
	}
}

// A machine without systemd gets one line saying so, whatever machine the
// test runs on: the check is pointed at a folder that does not exist.
func TestServiceWithoutSystemd(t *testing.T) {
	systemdDir = filepath.Join(t.TempDir(), "no-systemd")
	t.Cleanup(func() { systemdDir = "/run/systemd/system" })
	if systemdRunning() {
		t.Fatal("systemdRunning with no systemd folder")
	}
	_, stderr, code := ocicred(t, "service", "status")
	if code != 1 || !strings.Contains(stderr, "systemd is not running on this machine") {
		t.Errorf("service status: %q, exit %d", stderr, code)
	}
	if _, stderr, code := ocicred(t, "service", "bogus"); code != 2 || !strings.Contains(stderr, "unknown action") {
		t.Errorf("service bogus: %q, exit %d", stderr, code)
	}
}
