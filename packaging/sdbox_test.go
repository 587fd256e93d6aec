package packaging

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ocicred/ocicred/test/testenv"
)

// The harness of the systemd suite: a Debian bookworm rootfs (built once
// with debootstrap and cached), booted with systemd-nspawn so that a real
// systemd is PID 1, driven through packaging/sdbox/sdbox.sh.

// requireSystemdSuite decides, before the test does anything, whether this
// machine can boot the container and build the packages: root, the tools,
// and not -short. It returns the repository root.
func requireSystemdSuite(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("systemd suite: skipped with -short")
	}
	testenv.RequireRoot(t, "boots a container with systemd-nspawn")
	for _, tool := range []string{"systemd-nspawn", "debootstrap", "nsenter", "nfpm", "make", "rpm"} {
		testenv.Tool(t, tool)
	}
	if _, err := os.Stat("/sys/fs/cgroup/unified"); err != nil {
		testenv.Skip(t, "the systemd suite needs the cgroup v2 hierarchy at /sys/fs/cgroup/unified: "+err.Error())
	}
	root := testenv.RepoRoot()
	if root == "" {
		t.Fatal("cannot find the repository root")
	}
	return root
}

// cacheDir holds the rootfs tarball and its unpacked copy:
// OCICRED_SDBOX_CACHE, else $XDG_CACHE_HOME/ocicred/sdbox, else
// ~/.cache/ocicred/sdbox.
func cacheDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("OCICRED_SDBOX_CACHE"); d != "" {
		return d
	}
	base, err := os.UserCacheDir()
	if err != nil {
		t.Fatalf("no cache folder for the rootfs (set OCICRED_SDBOX_CACHE): %v", err)
	}
	return filepath.Join(base, "ocicred", "sdbox")
}

// rootfs returns the unpacked rootfs, building and unpacking it the first
// time (about a minute) under a lock, so concurrent runs share one build.
func rootfs(t *testing.T, repo string) string {
	t.Helper()
	dir := cacheDir(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) }()

	tarball := filepath.Join(dir, "rootfs-bookworm.tar")
	lower := filepath.Join(dir, "lower")
	stamp := lower + ".stamp"
	if _, err := os.Stat(tarball); err != nil {
		start := time.Now()
		runHost(t, "bash", filepath.Join(repo, "packaging", "sdbox", "build-rootfs.sh"), tarball)
		t.Logf("built the rootfs in %.1f s", time.Since(start).Seconds())
	}
	tfi, err := os.Stat(tarball)
	if err != nil {
		t.Fatal(err)
	}
	if sfi, err := os.Stat(stamp); err != nil || sfi.ModTime().Before(tfi.ModTime()) {
		if err := os.RemoveAll(lower); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(lower, 0o755); err != nil {
			t.Fatal(err)
		}
		runHost(t, "tar", "--numeric-owner", "--xattrs", "--acls", "-C", lower, "-xf", tarball)
		if err := os.Chmod(lower, 0o755); err != nil { // a 0700 "/" breaks dbus
			t.Fatal(err)
		}
		if err := os.WriteFile(stamp, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return lower
}

// box is one booted container.
type box struct {
	t      *testing.T
	name   string
	script string
}

var boxSeq atomic.Int32

// boot starts a container from lower with a throwaway overlay (every boot
// starts pristine), binding each host folder of binds read-only at the
// path it maps to, and stops it when the test ends.
func boot(t *testing.T, repo, lower string, binds map[string]string) *box {
	t.Helper()
	b := &box{t: t, name: fmt.Sprintf("oc%d-%d", os.Getpid()%100000, boxSeq.Add(1)),
		script: filepath.Join(repo, "packaging", "sdbox", "sdbox.sh")}
	args := []string{b.script, "start", b.name, lower, "--volatile=overlay"}
	for host, guest := range binds {
		args = append(args, "--bind-ro="+host+":"+guest)
	}
	start := time.Now()
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := b.try("journalctl", "--no-pager", "-o", "short-monotonic", "-u", "ocicred")
			t.Logf("journal of ocicred.service:\n%s", out)
		}
		if out, err := exec.Command("bash", b.script, "stop", b.name).CombinedOutput(); err != nil {
			t.Errorf("stop the container: %v\n%s", err, out)
		}
	})
	runHost(t, "bash", args...)
	t.Logf("booted %s in %.2f s", b.name, time.Since(start).Seconds())
	return b
}

// try runs argv inside the container as root and returns its combined
// output and error (an *exec.ExitError carries the exit code).
func (b *box) try(argv ...string) (string, error) {
	out, err := exec.Command("bash", append([]string{b.script, "exec", b.name}, argv...)...).CombinedOutput()
	return string(out), err
}

// run is try that fails the test on a non-zero exit.
func (b *box) run(argv ...string) string {
	b.t.Helper()
	out, err := b.try(argv...)
	if err != nil {
		b.t.Fatalf("in the container: %s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return out
}

// sh runs a shell script inside the container and fails the test on a
// non-zero exit.
func (b *box) sh(script string) string {
	b.t.Helper()
	return b.run("sh", "-ec", script)
}

// write puts content at path inside the container with mode and owner
// root:group.
func (b *box) write(path, content string, mode os.FileMode, group string) {
	b.t.Helper()
	cmd := exec.Command("bash", b.script, "exec", b.name, "sh", "-ec",
		`umask 077; cat > "$1"; chmod "$2" "$1"; chgrp "$3" "$1"`, "write", path, fmt.Sprintf("%o", mode), group)
	cmd.Stdin = strings.NewReader(content)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.t.Fatalf("write %s in the container: %v\n%s", path, err, out)
	}
}

// exitCode is err's exit code: 0 for nil, -1 when it did not exit.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// runHost runs a command on the host and fails the test on error.
func runHost(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// command runs a host command and returns its combined output.
func command(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}
