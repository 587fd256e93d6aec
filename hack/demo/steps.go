package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/ocicred/ocicred/test/e2e/localreg"
	"github.com/ocicred/ocicred/test/e2e/subproc"
)

const (
	user = "demo"
	repo = "demo/hello"
	tag  = "v1"
)

// demo is the state the steps share. Every path is inside dir.
type demo struct {
	bin       binaries
	dir       string
	inProcess bool // the in-process registry even when docker-registry is installed
	step      int

	password     string // never printed
	passwordFile string
	reg          *localreg.Registry
	config       string
	socket       string
	daemon       *subproc.Proc
	dockerConfig string // the folder
	digest       string // what was pushed
}

// steps runs the demo's steps in order; each prints one numbered line.
func (d *demo) steps(ctx context.Context) error {
	for _, step := range []func(context.Context) error{
		d.startRegistry, d.writeConfig, d.startDaemon, d.push,
		d.anonymousRefused, d.writeDockerConfig, d.pullThroughHelper, d.status,
	} {
		if err := step(ctx); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// say prints the next numbered step, and detail indented under it.
func (d *demo) say(detail, format string, args ...any) {
	d.step++
	fmt.Printf("%d. %s\n", d.step, fmt.Sprintf(format, args...))
	if detail = strings.TrimRight(detail, "\n"); detail != "" {
		fmt.Println("     " + strings.ReplaceAll(detail, "\n", "\n     "))
	}
}

func (d *demo) ref() string { return d.reg.Host + "/" + repo + ":" + tag }

func (d *demo) startRegistry(ctx context.Context) error {
	d.password = randomPassword()
	d.passwordFile = filepath.Join(d.dir, "registry-password")
	if err := os.WriteFile(d.passwordFile, []byte(d.password+"\n"), 0o600); err != nil {
		return fmt.Errorf("write the password file: %w", err)
	}
	reg, err := startRegistry(ctx, filepath.Join(d.dir, "registry"), user, d.password, d.inProcess)
	if err != nil {
		return err
	}
	d.reg = reg
	d.say("", "registry: %s on %s, user %s, password in %s (mode 0600, never printed)",
		reg.Kind, reg.URL, user, d.passwordFile)
	return nil
}

func randomPassword() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (d *demo) writeConfig(context.Context) error {
	d.config = filepath.Join(d.dir, "ocicred.yaml")
	d.socket = filepath.Join(d.dir, "ocicred.sock")
	cfg := fmt.Sprintf(`registries:
  - name: demo
    type: basic
    endpoint: http://%s
    username: %s
    passwordFile: %s
`, d.reg.Host, user, d.passwordFile)
	if err := os.WriteFile(d.config, []byte(cfg), 0o600); err != nil {
		return fmt.Errorf("write the ocicred config: %w", err)
	}
	d.say(cfg, "ocicred config: %s", d.config)
	return nil
}

func (d *demo) push(ctx context.Context) error {
	auth := &authn.Basic{Username: user, Password: d.password}
	var err error
	if d.digest, err = d.reg.PushTestImage(ctx, repo, tag, "hello from the ocicred demo\n", auth); err != nil {
		return err
	}
	d.say("", "pushed %s (%s) with the registry's own credentials", d.ref(), d.digest)
	return nil
}

func (d *demo) anonymousRefused(ctx context.Context) error {
	ref, err := d.reg.Tag(repo, tag)
	if err != nil {
		return err
	}
	_, err = remote.Get(ref, remote.WithAuth(authn.Anonymous), remote.WithContext(ctx))
	var se *transport.Error
	if !errors.As(err, &se) || se.StatusCode != http.StatusUnauthorized {
		return fmt.Errorf("an anonymous pull should get 401, got: %v", err)
	}
	d.say("", "anonymous pull of %s refused: %d %s", d.ref(), se.StatusCode, http.StatusText(se.StatusCode))
	return nil
}

func (d *demo) writeDockerConfig(ctx context.Context) error {
	d.dockerConfig = filepath.Join(d.dir, "docker")
	out, err := d.runOutput(ctx, d.bin.ocicred, "setup", "docker", "--config", d.config)
	if err != nil {
		return fmt.Errorf("ocicred setup docker: %w: %s", err, out)
	}
	content, err := os.ReadFile(filepath.Join(d.dockerConfig, "config.json"))
	if err != nil {
		return fmt.Errorf("read the docker config: %w", err)
	}
	d.say(string(content), "ocicred setup docker: DOCKER_CONFIG=%s, no password in it, credHelpers sends %s to docker-credential-ocicred",
		d.dockerConfig, d.reg.Host)
	return nil
}

func (d *demo) pullThroughHelper(ctx context.Context) error {
	digest, how, err := d.pull(ctx)
	if err != nil {
		return fmt.Errorf("pull through the helper: %w", err)
	}
	if digest != d.digest {
		return fmt.Errorf("pulled %s, pushed %s", digest, d.digest)
	}
	d.say("", "pulled %s through docker-credential-ocicred with %s: %s (the digest pushed)", d.ref(), how, digest)
	return nil
}

func (d *demo) status(ctx context.Context) error {
	out, err := d.runOutput(ctx, d.bin.ocicred, "status", "--socket", d.socket, "--config", d.config)
	if strings.Contains(out, d.password) {
		return errors.New("ocicred status printed the registry password")
	}
	if err != nil {
		return fmt.Errorf("ocicred status: %w\n%s", err, out)
	}
	d.say(out, "ocicred status:")
	return nil
}
