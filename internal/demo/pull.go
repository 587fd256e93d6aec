package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/ocicred/ocicred/internal/e2e/localreg"
)

// pull pulls the image through the credential helper: with crane when it is
// installed, else with the demo's client after asking the helper as docker
// does. It returns the manifest digest and which client pulled.
func (d *demo) pull(ctx context.Context) (digest, how string, err error) {
	env := d.environ()
	if crane, err := lookPath("crane", env); err == nil {
		digest, err := d.cranePull(ctx, crane)
		return digest, "crane", err
	}
	cred, err := d.askHelper(ctx, env)
	if err != nil {
		return "", "", err
	}
	c := &localreg.Client{BaseURL: d.reg.URL, Cred: cred}
	digest, err = c.Pull(ctx, repo, tag)
	return digest, "the demo's client (crane is not installed)", err
}

// cranePull runs `crane pull` into the temp folder, then `crane digest`.
func (d *demo) cranePull(ctx context.Context, crane string) (string, error) {
	out, err := d.runOutput(ctx, crane, "pull", d.ref(), filepath.Join(d.dir, "hello.tar"))
	if err != nil {
		return "", fmt.Errorf("crane pull %s: %w\n%s", d.ref(), err, out)
	}
	out, err = d.runOutput(ctx, crane, "digest", d.ref())
	if err != nil {
		return "", fmt.Errorf("crane digest %s: %w\n%s", d.ref(), err, out)
	}
	return strings.TrimSpace(out), nil
}

// askHelper does what docker and go-containerregistry's DefaultKeychain do:
// look the registry up in $DOCKER_CONFIG/config.json's credHelpers and run
// `docker-credential-NAME get` with the host on stdin.
func (d *demo) askHelper(ctx context.Context, env []string) (localreg.Credential, error) {
	data, err := os.ReadFile(filepath.Join(d.dockerConfig, "config.json"))
	if err != nil {
		return localreg.Credential{}, fmt.Errorf("read the docker config: %w", err)
	}
	var cfg struct{ CredHelpers map[string]string }
	if err := json.Unmarshal(data, &cfg); err != nil {
		return localreg.Credential{}, fmt.Errorf("decode the docker config: %w", err)
	}
	name, ok := cfg.CredHelpers[d.reg.Host]
	if !ok {
		return localreg.Credential{}, fmt.Errorf("no credHelpers entry for %s", d.reg.Host)
	}
	helper, err := lookPath("docker-credential-"+name, env)
	if err != nil {
		return localreg.Credential{}, err
	}
	return runHelper(ctx, helper, d.reg.Host, env)
}

func runHelper(ctx context.Context, helper, host string, env []string) (localreg.Credential, error) {
	cmd := exec.CommandContext(ctx, helper, "get")
	cmd.Env = env
	cmd.Stdin = strings.NewReader(host)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		// On failure stdout is the helper's message, never a secret.
		return localreg.Credential{}, fmt.Errorf("%s get %s: %w: %s", helper, host, err, strings.TrimSpace(stdout.String()))
	}
	var creds struct{ Username, Secret string }
	if err := json.Unmarshal(stdout.Bytes(), &creds); err != nil {
		return localreg.Credential{}, fmt.Errorf("%s get %s: decode its answer: %w", helper, host, err)
	}
	return localreg.Credential{Username: creds.Username, Password: creds.Secret}, nil
}
