package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDebInstallRemovePurge builds the .deb and .rpm, installs the .deb on
// this machine with dpkg, checks files, modes and the group, verifies the
// installed unit, then removes and purges it and checks nothing is left.
// It changes the machine, so it runs only with OCICRED_PACKAGE_TEST=1 (the
// last step of `make test`, alone: the end-to-end tests must not see the
// installed programs), as root.
func TestDebInstallRemovePurge(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and installs a package")
	}
	inCI := os.Getenv("CI") == "true"
	if os.Getenv("OCICRED_PACKAGE_TEST") != "1" {
		t.Skip("installs a package on this machine: set OCICRED_PACKAGE_TEST=1 (make test does, alone)")
	}
	if os.Getuid() != 0 && !inCI {
		t.Skip("needs root to install a package")
	}
	for _, tool := range []string{"dpkg", "nfpm", "make", "systemd-analyze"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found (bash .ci/install-tools installs nfpm): %v", tool, err)
		}
	}
	if os.Getuid() != 0 {
		t.Fatal("needs root to install a package")
	}
	if out, err := exec.Command("dpkg-query", "-W", "ocicred").CombinedOutput(); err == nil {
		t.Fatalf("an ocicred package is already installed; not touching it: %s", out)
	}
	if _, err := os.Stat("/usr/bin/ocicred"); err == nil {
		t.Fatal("/usr/bin/ocicred exists outside a package; not touching it")
	}

	run(t, "make", "-C", "..", "package")
	debs, _ := filepath.Glob("../dist/ocicred_*.deb")
	rpms, _ := filepath.Glob("../dist/ocicred-*.rpm")
	if len(debs) != 1 || len(rpms) != 1 {
		t.Fatalf("dist holds %v and %v; want one .deb and one .rpm", debs, rpms)
	}
	t.Cleanup(func() { _ = exec.Command("dpkg", "--purge", "ocicred").Run() })

	run(t, "dpkg", "-i", debs[0])
	for path, want := range map[string]string{
		"/usr/bin/ocicred":                        "-rwxr-xr-x root root",
		"/usr/bin/docker-credential-ocicred":      "-rwxr-xr-x root root",
		"/usr/lib/systemd/system/ocicred.service": "-rw-r--r-- root root",
		"/etc/ocicred":                            "drwxr-x--- root ocicred",
		"/etc/ocicred/config.yaml":                "-rw-r----- root ocicred",
		"/usr/share/man/man1/ocicred.1":           "-rw-r--r-- root root",
		"/usr/share/man/man1/ocicred-daemon.1":    "-rw-r--r-- root root",
	} {
		if got := strings.TrimSpace(run(t, "stat", "-c", "%A %U %G", path)); got != want {
			t.Errorf("%s: %s, want %s", path, got, want)
		}
	}
	if out := run(t, "getent", "group", "ocicred"); !strings.HasPrefix(out, "ocicred:") {
		t.Errorf("group: %q", out)
	}
	if out, err := exec.Command("systemd-analyze", "verify", "/usr/lib/systemd/system/ocicred.service").CombinedOutput(); err != nil ||
		strings.Contains(string(out), "ocicred.service:") {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	if out := run(t, "/usr/bin/ocicred", "config", "validate"); !strings.Contains(out, "/etc/ocicred/config.yaml: valid") {
		t.Errorf("the installed config does not validate: %s", out)
	}

	run(t, "dpkg", "-r", "ocicred")
	if _, err := os.Stat("/usr/bin/ocicred"); !os.IsNotExist(err) {
		t.Error("/usr/bin/ocicred left after remove")
	}
	if _, err := os.Stat("/etc/ocicred/config.yaml"); err != nil {
		t.Error("remove (not purge) deleted the config file")
	}
	run(t, "dpkg", "--purge", "ocicred")
	for _, path := range []string{"/etc/ocicred", "/usr/lib/systemd/system/ocicred.service", "/usr/share/man/man1/ocicred.1", "/usr/bin/docker-credential-ocicred", "/var/lib/ocicred"} {
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("%s left after purge", path)
		}
	}
	if err := exec.Command("getent", "group", "ocicred").Run(); err == nil {
		t.Error("group ocicred left after purge")
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
