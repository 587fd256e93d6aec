package packaging

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocicred/ocicred/systemd"
	"github.com/ocicred/ocicred/test/awsfake"
)

// The systemd suite: the packages that `make package` builds, installed
// into a Debian container whose PID 1 is a real systemd (sdbox_test.go),
// and driven as an operator would, with systemctl, journalctl, dpkg and the
// helper run as other users.

// packages are the .deb files of two versions built from this tree (the
// older one to upgrade from) and the .rpm.
type packages struct {
	dir      string // holds old/ and new/
	old, new string // .deb paths relative to dir
	rpm      string // absolute path
}

var (
	pkgOnce sync.Once
	pkgs    packages
	pkgErr  error
)

// buildPackages runs `make package` twice, as versions 1.0.0 and 1.0.1,
// into a temp folder, once per test binary.
func buildPackages(t *testing.T, repo string) packages {
	t.Helper()
	pkgOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ocicred-pkgs-")
		if err != nil {
			pkgErr = err
			return
		}
		for _, v := range []struct{ sub, version string }{{"old", "1.0.0"}, {"new", "1.0.1"}} {
			out, err := command("make", "-C", repo, "package", "DIST="+filepath.Join(dir, v.sub), "PKG_VERSION="+v.version)
			if err != nil {
				pkgErr = fmt.Errorf("make package %s: %v\n%s", v.version, err, out)
				return
			}
		}
		pkgs.dir = dir
		pkgs.old = "old/ocicred_1.0.0_" + goarch() + ".deb"
		pkgs.new = "new/ocicred_1.0.1_" + goarch() + ".deb"
		rpms, _ := filepath.Glob(filepath.Join(dir, "new", "ocicred-1.0.1*.rpm"))
		if len(rpms) != 1 {
			pkgErr = fmt.Errorf("want one .rpm in %s/new, found %v", dir, rpms)
			return
		}
		pkgs.rpm = rpms[0]
		for _, p := range []string{pkgs.old, pkgs.new} {
			if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
				pkgErr = fmt.Errorf("make package did not write %s: %v", p, err)
				return
			}
		}
	})
	if pkgErr != nil {
		t.Fatal(pkgErr)
	}
	return pkgs
}

func goarch() string {
	out, err := command("go", "env", "GOARCH")
	if err != nil {
		return "amd64"
	}
	return strings.TrimSpace(out)
}

// ecrHost is the ECR registry of the suite; 123456789012 is the stand-in's
// default account, us-west-2 the region the token is asked for.
const ecrHost = "123456789012.dkr.ecr.us-west-2.amazonaws.com"

// suiteSecrets are this run's secrets, random so that a leak is found by
// searching for them.
type suiteSecrets struct {
	password, password2, accessKeyID, secretKey string
}

func newSecrets() suiteSecrets {
	r := func(prefix string) string {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		return prefix + hex.EncodeToString(b)
	}
	return suiteSecrets{password: r("pw1-"), password2: r("pw2-"), accessKeyID: "AKIDSUITE" + strings.ToUpper(hex.EncodeToString([]byte{1, 2, 3, 4})), secretKey: r("sk-")}
}

// operatorConfig is what an operator writes into /etc/ocicred/config.yaml:
// a Basic registry and an ECR registry, their secrets in files only root
// reads, in a folder the daemon does not watch (so only a reload or a
// restart reads them again).
const operatorConfig = `socketGroup: ocicred
registries:
  - name: harbor
    type: basic
    endpoint: harbor.example.com
    username: robot
    passwordFile: /etc/ocicred/secrets/harbor.password
  - name: prod
    type: ecr
    endpoint: ` + ecrHost + `
    credentials:
      type: secret
      accessKeyId: %s
      secretAccessKeyFile: /etc/ocicred/secrets/prod.secret
`

// helperAnswer is the credential helper's JSON answer.
type helperAnswer struct {
	ServerURL, Username, Secret string
}

// getAs runs `echo SERVER | docker-credential-ocicred get` as user in a
// login shell, with OCICRED_DEBUG=1 so stderr says where the answer came
// from. It returns stdout, stderr and the exit code.
func (b *box) getAs(user, server string) (stdout, stderr string, code int) {
	b.t.Helper()
	out, err := b.try("runuser", "-l", user, "-c",
		"echo "+server+" | OCICRED_DEBUG=1 docker-credential-ocicred get 2>/tmp/helper.err; rc=$?; echo; echo '--stderr--'; cat /tmp/helper.err; rm -f /tmp/helper.err; exit $rc")
	stdout, stderr, _ = strings.Cut(out, "\n--stderr--\n")
	return strings.TrimSpace(stdout), stderr, exitCode(err)
}

// getOK is getAs for an answer that must succeed with user name wantUser.
func (b *box) getOK(user, server, wantUser string) helperAnswer {
	b.t.Helper()
	stdout, stderr, code := b.getAs(user, server)
	var a helperAnswer
	if code != 0 || json.Unmarshal([]byte(stdout), &a) != nil || a.Username != wantUser || a.Secret == "" {
		b.t.Fatalf("%s: get %s: exit %d, stdout %q, stderr %q; want credentials for %s", user, server, code, redactAll(stdout), stderr, wantUser)
	}
	if !strings.Contains(stderr, "from the daemon") {
		b.t.Errorf("%s: get %s was not answered by the daemon: %s", user, server, stderr)
	}
	return a
}

// redactAll hides the Secret field of a helper answer in test output.
func redactAll(s string) string {
	return regexp.MustCompile(`"Secret":"[^"]*"`).ReplaceAllString(s, `"Secret":"REDACTED"`)
}

// waitFor polls cond (an observable state of the container, not a timer)
// every 100 ms for up to 15 s; systemctl reload returns before the daemon
// has re-read its config, as ExecReload only sends SIGHUP.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s after 15 s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSystemdPackagedService installs the .deb into a booted Debian,
// configures a Basic and an ECR registry as an operator would, and drives
// the service through its life: enable --now, users in and out of the
// ocicred group, reload, restart from the state folder, stop, the journal,
// an upgrade, remove and purge.
func TestSystemdPackagedService(t *testing.T) {
	repo := requireSystemdSuite(t)
	p := buildPackages(t, repo)
	lower := rootfs(t, repo)
	sec := newSecrets()
	fake := awsfake.Start(t, awsfake.WithKey(sec.accessKeyID, sec.secretKey)) // it checks the signature made with the secret
	b := boot(t, repo, lower, map[string]string{p.dir: "/debs"})
	start := time.Now()

	// Install: files, modes, the group, the unit enabled but not started.
	b.run("dpkg", "-i", "/debs/"+p.old)
	for path, want := range map[string]string{
		"/usr/bin/ocicred":                        "-rwxr-xr-x root root",
		"/usr/bin/docker-credential-ocicred":      "-rwxr-xr-x root root",
		"/usr/lib/systemd/system/ocicred.service": "-rw-r--r-- root root",
		"/etc/ocicred":                            "drwxr-x--- root ocicred",
		"/etc/ocicred/config.yaml":                "-rw-r----- root ocicred",
		"/usr/share/man/man1/ocicred.1":           "-rw-r--r-- root root",
	} {
		if got := strings.TrimSpace(b.run("stat", "-c", "%A %U %G", path)); got != want {
			t.Errorf("%s: %s, want %s", path, got, want)
		}
	}
	if got := strings.TrimSpace(b.run("systemctl", "is-enabled", "ocicred")); got != "enabled" {
		t.Errorf("after install the unit is %q, want enabled", got)
	}
	if out := b.run("ocicred", "config", "validate"); !strings.Contains(out, "/etc/ocicred/config.yaml: valid") {
		t.Errorf("the shipped config does not validate: %s", out)
	}
	if got := b.run("cat", "/usr/lib/systemd/system/ocicred.service"); got != systemd.Unit {
		t.Error("the installed unit differs from systemd/ocicred.service")
	}
	t.Run("exposure", func(t *testing.T) { checkExposure(t, b, repo) })

	// The operator's config: unreadable to everyone but root, so that an
	// answer to another user can only come from the daemon.
	b.sh("install -d -m 0700 /etc/ocicred/secrets")
	b.write("/etc/ocicred/secrets/harbor.password", sec.password+"\n", 0o600, "root")
	b.write("/etc/ocicred/secrets/prod.secret", sec.secretKey+"\n", 0o600, "root")
	b.write("/etc/ocicred/config.yaml", fmt.Sprintf(operatorConfig, sec.accessKeyID), 0o600, "root")
	b.sh("install -d /etc/systemd/system/ocicred.service.d")
	b.write("/etc/systemd/system/ocicred.service.d/aws.conf", "[Service]\n"+
		"Environment=AWS_ENDPOINT_URL_ECR="+fake.URL+" AWS_ENDPOINT_URL_STS="+fake.URL+" AWS_EC2_METADATA_DISABLED=true\n", 0o644, "root")
	b.run("systemctl", "daemon-reload")

	// enable --now returns once the daemon said READY=1 (Type=notify).
	b.run("systemctl", "enable", "--now", "ocicred")
	if got := strings.TrimSpace(b.run("systemctl", "is-active", "ocicred")); got != "active" {
		t.Fatalf("after enable --now: %s", got)
	}
	if got := strings.TrimSpace(b.run("systemctl", "show", "-p", "NRestarts", "--value", "ocicred")); got != "0" {
		t.Errorf("NRestarts=%s, want 0", got)
	}
	if got := strings.TrimSpace(b.run("stat", "-c", "%A %U %G", "/run/ocicred/ocicred.sock")); got != "srw-rw---- root ocicred" {
		t.Errorf("socket: %s, want srw-rw---- root ocicred", got)
	}

	// A user in the ocicred group gets both registries from the daemon; a
	// user outside it is refused and learns nothing.
	b.run("useradd", "-m", "-G", "ocicred", "alice")
	b.run("useradd", "-m", "bob")
	if a := b.getOK("alice", "harbor.example.com", "robot"); a.Secret != sec.password {
		t.Errorf("alice got the wrong harbor password")
	}
	token := b.getOK("alice", ecrHost, "AWS").Secret
	calls := fake.CallCount("ecr:GetAuthorizationToken")
	if calls != 1 {
		t.Errorf("%d GetAuthorizationToken calls after start, want 1", calls)
	}
	for _, host := range []string{"harbor.example.com", ecrHost} {
		stdout, stderr, code := b.getAs("bob", host)
		if code == 0 || strings.Contains(stdout+stderr, sec.password) || strings.Contains(stdout+stderr, token) {
			t.Errorf("bob (not in ocicred) got %s: exit %d, stdout %q", host, code, redactAll(stdout))
		}
		if !strings.Contains(stderr, "permission denied") {
			t.Errorf("bob's refusal for %s does not say why: %q", host, stderr)
		}
	}

	// systemctl reload makes the daemon re-read its config and secret
	// files (it also follows them by itself: whichever comes first applies
	// the new password, and the SIGHUP is answered either way).
	b.write("/etc/ocicred/secrets/harbor.password", sec.password2+"\n", 0o600, "root")
	b.run("systemctl", "reload", "ocicred")
	waitFor(t, "the reloaded password", func() bool {
		stdout, _, code := b.getAs("alice", "harbor.example.com")
		return code == 0 && strings.Contains(stdout, sec.password2)
	})
	waitFor(t, "the daemon's answer to the SIGHUP in the journal", func() bool {
		j, _ := b.try("journalctl", "-u", "ocicred", "-o", "cat", "--no-pager")
		return regexp.MustCompile(`msg="config (reloaded|unchanged)" reason=SIGHUP`).MatchString(j)
	})

	// restart serves the ECR token kept in StateDirectory, with no AWS call.
	b.run("systemctl", "restart", "ocicred")
	if got := b.getOK("alice", ecrHost, "AWS").Secret; got != token {
		t.Error("after restart the ECR token differs: it was not served from /var/lib/ocicred")
	}
	if n := fake.CallCount("ecr:GetAuthorizationToken"); n != calls {
		t.Errorf("restart made %d GetAuthorizationToken calls, want 0", n-calls)
	}

	// stop leaves the unit inactive, not failed.
	b.run("systemctl", "stop", "ocicred")
	out, err := b.try("systemctl", "is-active", "ocicred")
	if got := strings.TrimSpace(out); got != "inactive" || exitCode(err) != 3 {
		t.Errorf("after stop: %q (exit %d), want inactive", got, exitCode(err))
	}
	if got := strings.TrimSpace(b.run("systemctl", "show", "-p", "Result", "--value", "ocicred")); got != "success" {
		t.Errorf("after stop Result=%s, want success", got)
	}

	// The journal has the documented lines and none of the secrets.
	journal := b.run("journalctl", "-u", "ocicred", "-o", "cat", "--no-pager")
	for _, line := range []string{"ocicred daemon ready", "token refreshed", "reason=SIGHUP", "token from the state cache", "ocicred daemon stopping"} {
		if !strings.Contains(journal, line) {
			t.Errorf("the journal lacks %q", line)
		}
	}
	for name, s := range map[string]string{"password": sec.password, "new password": sec.password2, "secret key": sec.secretKey, "ECR token": token} {
		if strings.Contains(journal, s) {
			t.Errorf("the journal holds the %s", name)
		}
	}

	// Upgrade: the edited config stays, the running service is restarted.
	b.run("systemctl", "start", "ocicred")
	pid := strings.TrimSpace(b.run("systemctl", "show", "-p", "MainPID", "--value", "ocicred"))
	before := b.run("sha256sum", "/etc/ocicred/config.yaml")
	b.run("dpkg", "-i", "/debs/"+p.new)
	if got := strings.TrimSpace(b.run("dpkg-query", "-W", "-f", "${Version}", "ocicred")); got != "1.0.1" {
		t.Errorf("after the upgrade dpkg says version %s", got)
	}
	if after := b.run("sha256sum", "/etc/ocicred/config.yaml"); after != before {
		t.Error("the upgrade changed the edited config")
	}
	if got := strings.TrimSpace(b.run("systemctl", "is-active", "ocicred")); got != "active" {
		t.Errorf("after the upgrade the service is %s", got)
	}
	if got := strings.TrimSpace(b.run("systemctl", "show", "-p", "MainPID", "--value", "ocicred")); got == pid || got == "0" {
		t.Errorf("the upgrade did not restart the service (MainPID %s, before %s)", got, pid)
	}
	b.getOK("alice", "harbor.example.com", "robot")

	// remove stops and disables; the config stays.
	b.run("dpkg", "-r", "ocicred")
	if out, _ := b.try("systemctl", "is-active", "ocicred"); strings.TrimSpace(out) == "active" {
		t.Error("dpkg -r left the service running")
	}
	if _, err := b.try("test", "-e", "/etc/systemd/system/multi-user.target.wants/ocicred.service"); err == nil {
		t.Error("dpkg -r left the service enabled")
	}
	if _, err := b.try("test", "-f", "/etc/ocicred/config.yaml"); err != nil {
		t.Error("dpkg -r deleted the config")
	}

	// purge removes the config folder, the state folder and the group.
	b.run("dpkg", "-P", "ocicred")
	for _, path := range []string{"/etc/ocicred", "/var/lib/ocicred", "/usr/bin/ocicred"} {
		if _, err := b.try("test", "-e", path); err == nil {
			t.Errorf("%s left after purge", path)
		}
	}
	if _, err := b.try("getent", "group", "ocicred"); err == nil {
		t.Error("group ocicred left after purge")
	}
	t.Logf("suite steps took %.1f s after boot", time.Since(start).Seconds())
}

// checkExposure reads `systemd-analyze security ocicred` in the container
// and checks that README.md reports the same overall exposure figure.
func checkExposure(t *testing.T, b *box, repo string) {
	out := b.run("systemd-analyze", "security", "--no-pager", "ocicred.service")
	m := regexp.MustCompile(`Overall exposure level for ocicred\.service: ([0-9.]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	t.Logf("systemd-analyze security ocicred: %s", m[1])
	readme, err := os.ReadFile(filepath.Join(repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "overall exposure level " + m[1]; !strings.Contains(string(readme), want) {
		t.Errorf("README.md does not say %q (systemd-analyze security's figure):\n%s", want, lastLines(out, 40))
	}
}

func lastLines(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// readmeBlock returns the commands of the first ```sh block after the line
// heading in README.md, one per line, comments dropped.
func readmeBlock(t *testing.T, repo, heading string) []string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no line %q", heading)
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatalf("README.md has no sh block after %q", heading)
	}
	var cmds []string
	for _, line := range strings.Split(block, "\n") {
		line, _, _ = strings.Cut(line, "#")
		if line = strings.TrimSpace(line); line != "" {
			cmds = append(cmds, line)
		}
	}
	return cmds
}

// TestSystemdSourceInstall follows README.md's "From source" steps, as
// written, on a booted Debian without the package: kardianos/service
// writes the shipped unit byte for byte, creates the group the unit and
// the sample config name, and the service starts and serves.
func TestSystemdSourceInstall(t *testing.T) {
	repo := requireSystemdSuite(t)
	buildPackages(t, repo) // make package runs make build, as the README's first step
	lower := rootfs(t, repo)
	b := boot(t, repo, lower, map[string]string{
		filepath.Join(repo, "bin"): "/src/bin", filepath.Join(repo, "packaging"): "/src/packaging",
	})
	steps := readmeBlock(t, repo, "From source:")
	if len(steps) < 2 || steps[0] != "make build" {
		t.Fatalf("README's source steps changed shape (want make build first): %q", steps)
	}
	for _, step := range steps[1:] {
		b.run("sh", "-ec", "cd /src && "+strings.ReplaceAll(step, "sudo ", ""))
	}
	if got := b.run("cat", "/etc/systemd/system/ocicred.service"); got != systemd.Unit {
		t.Error("ocicred service install wrote another unit than systemd/ocicred.service")
	}
	if got := strings.TrimSpace(b.run("systemctl", "is-active", "ocicred")); got != "active" {
		t.Fatalf("after the README's steps the service is %s", got)
	}
	if got := strings.TrimSpace(b.run("systemctl", "is-enabled", "ocicred")); got != "enabled" {
		t.Errorf("ocicred service install left the unit %s, want enabled", got)
	}
	if got := strings.TrimSpace(b.run("stat", "-c", "%A %U %G", "/run/ocicred/ocicred.sock")); got != "srw-rw---- root ocicred" {
		t.Errorf("socket: %s", got)
	}
	if got := strings.TrimSpace(b.run("ocicred", "service", "status")); got != "running" {
		t.Errorf("ocicred service status: %s", got)
	}
	b.run("useradd", "-m", "-G", "ocicred", "carol")
	out, err := b.try("runuser", "-l", "carol", "-c", "ocicred status")
	if err != nil || !strings.Contains(out, "/etc/ocicred/config.yaml") {
		t.Errorf("ocicred status as a member of ocicred: %v\n%s", err, out)
	}
	b.run("ocicred", "service", "stop")
	out, err = b.try("systemctl", "is-active", "ocicred")
	if got := strings.TrimSpace(out); got != "inactive" || exitCode(err) != 3 {
		t.Errorf("after ocicred service stop: %q", got)
	}
	b.run("ocicred", "service", "uninstall")
	if _, err := b.try("test", "-e", "/etc/systemd/system/ocicred.service"); err == nil {
		t.Error("ocicred service uninstall left the unit file")
	}
}

// TestRPMContents checks the .rpm the way rpm reads it: its files, the
// config file's mode, owner and flags, and the scriptlets that create the
// group, enable the unit, restart it on upgrade and clean up on erase.
func TestRPMContents(t *testing.T) {
	repo := requireSystemdSuite(t)
	p := buildPackages(t, repo)
	files := runHost(t, "rpm", "-qlp", p.rpm)
	for _, f := range []string{"/usr/bin/ocicred", "/usr/bin/docker-credential-ocicred", "/usr/lib/systemd/system/ocicred.service",
		"/etc/ocicred/config.yaml", "/usr/share/man/man1/ocicred.1"} {
		if !strings.Contains(files, f+"\n") {
			t.Errorf("the .rpm lacks %s:\n%s", f, files)
		}
	}
	if got := strings.TrimSpace(runHost(t, "rpm", "-qcp", p.rpm)); got != "/etc/ocicred/config.yaml" {
		t.Errorf("config files: %q, want /etc/ocicred/config.yaml", got)
	}
	if got := runHost(t, "rpm", "-qp", "--qf", "[%{FILENAMES} %{FILEMODES:perms} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILEFLAGS:fflags}\n]", p.rpm); !strings.Contains(got, "/etc/ocicred/config.yaml -rw-r----- root ocicred cn\n") {
		t.Errorf("the config file is not 0640 root:ocicred, config(noreplace):\n%s", got)
	}
	scripts := runHost(t, "rpm", "-qp", "--scripts", p.rpm)
	for _, want := range []string{"groupadd --system ocicred", "systemctl enable ocicred.service", "systemctl try-restart ocicred.service",
		"systemctl disable --now ocicred.service", "groupdel ocicred"} {
		if !strings.Contains(scripts, want) {
			t.Errorf("the .rpm's scriptlets lack %q", want)
		}
	}
}
