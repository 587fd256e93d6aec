package helper

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/docker-credential-helpers/credentials"
)

// FallbackTimeout bounds the daemon-less answer: no minute-long hangs.
const FallbackTimeout = 30 * time.Second

// execFallback answers by running `ocicred get` or `ocicred list`, which
// link what the helper must not (the config parser, the AWS SDK): they try
// the socket the config names, then work the answer out from the config
// with the caller's own rights.
type execFallback struct {
	configPath string
	socket     string    // the helper's socket, skipped when it gave no answer
	stderr     io.Writer // their stderr: everything when debugging, else only what needs fixing
	quiet      bool      // ask them to leave out where the answer came from
}

func (f *execFallback) get(ctx context.Context, server string, silent bool) (string, string, error) {
	bin, err := findOcicred()
	if err != nil {
		return "", "", err
	}
	ctx, cancel := context.WithTimeout(ctx, FallbackTimeout)
	defer cancel()
	out, runErr := f.run(ctx, bin, f.args("get", silent, server)...)
	return parseGetOutput(out, runErr)
}

func (f *execFallback) list(ctx context.Context, silent bool) (map[string]string, error) {
	bin, err := findOcicred()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, FallbackTimeout)
	defer cancel()
	out, err := f.run(ctx, bin, f.args("list", silent)...)
	return parseListOutput(out, err)
}

// parseListOutput turns `ocicred list`'s stdout and exit status back into
// the helper's answer: the JSON object, or the one line saying why not.
func parseListOutput(out []byte, runErr error) (map[string]string, error) {
	if runErr != nil {
		var exitErr *exec.ExitError
		if !errors.As(runErr, &exitErr) {
			return nil, fmt.Errorf("run ocicred list: %w", runErr)
		}
		if reason := firstLine(strings.TrimSpace(string(out))); reason != "" {
			return nil, fmt.Errorf("ocicred list: %s", reason)
		}
		return nil, fmt.Errorf("ocicred list failed (%v) and said nothing; run it by hand to see why", runErr)
	}
	m := map[string]string{}
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, errors.New("ocicred list printed something that is not a JSON object")
	}
	return m, nil
}

// args is the command line of `ocicred <command>`, with the positional
// arguments after "--": a server address that starts with "-" stays an
// address, never a flag. silent: the helper's daemon gave no answer, and
// ocicred is told not to wait for it again.
func (f *execFallback) args(command string, silent bool, positional ...string) []string {
	args := []string{command, "--config", f.configPath}
	if f.quiet {
		args = append(args, "--quiet")
	}
	if silent {
		args = append(args, "--skip-socket", f.socket)
	}
	if len(positional) == 0 {
		return args
	}
	return append(append(args, "--"), positional...)
}

func (f *execFallback) run(ctx context.Context, bin string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = f.stderr
	err := cmd.Run()
	return stdout.Bytes(), err
}

// parseGetOutput turns `ocicred get`'s stdout and exit status back into the
// helper's answer.
func parseGetOutput(out []byte, runErr error) (string, string, error) {
	text := strings.TrimSpace(string(out))
	if runErr == nil {
		var c credentials.Credentials
		if err := json.Unmarshal(out, &c); err != nil || c.Username == "" {
			return "", "", fmt.Errorf("ocicred get printed something that is not credentials")
		}
		return c.Username, c.Secret, nil
	}
	var exitErr *exec.ExitError
	if !errors.As(runErr, &exitErr) {
		return "", "", fmt.Errorf("run ocicred get: %w", runErr)
	}
	if credentials.IsErrCredentialsNotFoundMessage(text) { // docker's text, as `ocicred get` prints it
		return "", "", credentials.NewErrCredentialsNotFound()
	}
	if text == "" {
		return "", "", fmt.Errorf("ocicred get failed (%v) and said nothing", runErr)
	}
	return "", "", errors.New(firstLine(text))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// findOcicred looks for ocicred next to this executable, then on PATH.
func findOcicred() (string, error) {
	if self, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(self); err == nil {
			self = real
		}
		candidate := filepath.Join(filepath.Dir(self), "ocicred")
		if fi, err := os.Stat(candidate); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return candidate, nil
		}
	}
	p, err := exec.LookPath("ocicred")
	if err != nil {
		return "", errors.New("the ocicred daemon is not reachable and no ocicred program was found to answer without it; start the daemon (ocicred service start) or put ocicred on PATH")
	}
	return p, nil
}
