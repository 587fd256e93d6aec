package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocicred/ocicred/test/testenv"
)

// Env is one scenario's sandbox. Every program it runs sees only the variables
// Environ lists: a private HOME, DOCKER_CONFIG and XDG_RUNTIME_DIR, the ocicred
// config and socket, PATH with the binaries under test first, and no registry
// or AWS credentials from the developer's environment.
type Env struct {
	Bin Binaries
	// Helper is the docker-credential-ocicred that tests call directly, and
	// the one first on PATH: Bin.Helper, or an isolated copy (see
	// HelperWithoutFallback).
	Helper       string
	Root         string // the scenario's temp dir
	Home         string
	DockerConfig string // the folder; the file is config.json in it
	RuntimeDir   string // XDG_RUNTIME_DIR
	Config       string // OCICRED_CONFIG
	Socket       string // OCICRED_SOCKET, in a short path (sun_path is 108 bytes)
	// Secrets are replaced by REDACTED in what Run logs.
	Secrets []string
	// Extra are more NAME=value variables for every program, after the
	// ones Environ sets; a name given twice takes the later value (os/exec
	// keeps the last). The ECR scenarios put awsfake's endpoints here.
	Extra []string
}

// NewEnv makes the sandbox's folders; they go away with the test.
func NewEnv(t testing.TB, bin Binaries) *Env {
	t.Helper()
	root := t.TempDir()
	e := &Env{
		Bin:          bin,
		Helper:       bin.Helper,
		Root:         root,
		Home:         filepath.Join(root, "home"),
		DockerConfig: filepath.Join(root, "home", ".docker"),
		RuntimeDir:   filepath.Join(root, "run"),
		Config:       filepath.Join(root, "ocicred.yaml"),
		Socket:       filepath.Join(shortTempDir(t), "ocicred.sock"),
	}
	for _, d := range []string{e.DockerConfig, e.RuntimeDir, filepath.Join(e.Home, ".config")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// shortTempDir is a temp dir with a short path, for unix sockets.
func shortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "oce2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// Environ is the complete environment of every program the scenario runs.
// PATH is the helper's folder, the Go bin folder and the system folders; not
// the caller's PATH, which may hold another ocicred. Extra comes last.
func (e *Env) Environ() []string {
	env := []string{
		"PATH=" + e.path(),
		"HOME=" + e.Home,
		"USER=" + os.Getenv("USER"),
		"TMPDIR=" + os.TempDir(),
		"LANG=C.UTF-8",
		"DOCKER_CONFIG=" + e.DockerConfig,
		"XDG_RUNTIME_DIR=" + e.RuntimeDir,
		"XDG_CONFIG_HOME=" + filepath.Join(e.Home, ".config"),
		"OCICRED_CONFIG=" + e.Config,
		"OCICRED_SOCKET=" + e.Socket,
		// The daemon's and the fallback's token cache (root's default is
		// /var/lib/ocicred, which no test may touch).
		"OCICRED_CACHE_DIR=" + filepath.Join(e.Root, "token-cache"),
		// Keep the AWS SDK, should anything load it, off the network and the
		// developer's files.
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(e.Root, "aws-config-none"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(e.Root, "aws-credentials-none"),
	}
	return append(env, e.Extra...)
}

func (e *Env) path() string {
	path := []string{filepath.Dir(e.Helper)}
	path = append(path, testenv.ToolDirs()...)
	path = append(path, "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
	return strings.Join(path, string(os.PathListSeparator))
}

// HelperWithoutFallback puts a copy of docker-credential-ocicred alone first
// on PATH, with no ocicred beside it nor anywhere on PATH. That helper cannot
// work an answer out without the daemon, so a pull that succeeds proves that
// the daemon answered.
func (e *Env) HelperWithoutFallback(t testing.TB) {
	t.Helper()
	data, err := os.ReadFile(e.Bin.Helper)
	if err != nil {
		t.Fatal(err)
	}
	e.Helper = filepath.Join(e.Root, "helper-only", filepath.Base(e.Bin.Helper))
	if err := os.MkdirAll(filepath.Dir(e.Helper), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.Helper, data, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, dir := range filepath.SplitList(e.path()) {
		if _, err := os.Stat(filepath.Join(dir, "ocicred")); err == nil {
			t.Fatalf("%s/ocicred is on the sandbox PATH: the helper could answer without the daemon", dir)
		}
	}
}

// Result is what a command did.
type Result struct {
	Stdout, Stderr string
	ExitCode       int   // -1 when it did not run or was killed
	Err            error // nil for exit status 0
}

// Output is stdout and stderr together, for error-text assertions.
func (r Result) Output() string { return r.Stdout + r.Stderr }

// Run runs name with args in the sandbox, stdin as its standard input, within
// two minutes, and logs the command and its output (secrets redacted).
func (e *Env) Run(t testing.TB, stdin, name string, args ...string) Result {
	t.Helper()
	start := time.Now()
	r := e.RunQuiet(stdin, name, args...)
	e.LogRun(t, r, time.Since(start), name, args...)
	return r
}

// RunQuiet is Run without the log line: for polling, and for output that
// must be redacted before it is logged (see LogRun).
func (e *Env) RunQuiet(stdin, name string, args ...string) Result {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = e.Environ()
	cmd.Dir = e.Root
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return Result{Stdout: stdout.String(), Stderr: stderr.String(), ExitCode: exitCode(err), Err: err}
}

// LogRun logs a command and its result as Run does, secrets redacted.
func (e *Env) LogRun(t testing.TB, r Result, took time.Duration, name string, args ...string) {
	t.Helper()
	t.Logf("$ %s %s  [exit %d, %s]\n%s", filepath.Base(name), strings.Join(args, " "),
		r.ExitCode, took.Round(time.Millisecond), e.Redact(indent(r.Output())))
}

// Redact replaces every secret in s with REDACTED.
func (e *Env) Redact(s string) string {
	for _, secret := range e.Secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "REDACTED")
		}
	}
	return s
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "    (no output)"
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
