package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// pull pulls the image through the credential helper: with crane when it is
// installed, else in process with go-containerregistry's DefaultKeychain, the
// library crane is built on. It returns the manifest digest and which client
// pulled.
func (d *demo) pull(ctx context.Context) (digest, how string, err error) {
	if crane, err := lookPath("crane", d.environ()); err == nil {
		digest, err := d.cranePull(ctx, crane)
		return digest, "crane", err
	}
	digest, err = d.keychainPull(ctx)
	return digest, "go-containerregistry's DefaultKeychain (crane is not installed)", err
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

// keychainPull pulls as crane does, in this process: DefaultKeychain finds
// $DOCKER_CONFIG/config.json's credHelpers entry and runs
// docker-credential-ocicred from PATH; then every blob is fetched and its
// digest checked. The keychain and the helper it runs read this process's
// environment, so the demo adopts the one it gives the programs it runs.
func (d *demo) keychainPull(ctx context.Context) (string, error) {
	if err := d.adoptEnviron(); err != nil {
		return "", err
	}
	ref, err := d.reg.Tag(repo, tag)
	if err != nil {
		return "", err
	}
	img, err := remote.Image(ref, remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithContext(ctx))
	if err != nil {
		return "", err
	}
	if err := validate.Image(img); err != nil {
		return "", fmt.Errorf("pulled %s: %w", ref, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return "", fmt.Errorf("digest of %s: %w", ref, err)
	}
	return digest.String(), nil
}

// adoptEnviron makes the demo's own environment that of environ().
func (d *demo) adoptEnviron() error {
	for k, v := range d.own() {
		err := os.Unsetenv(k)
		if v != "" {
			err = os.Setenv(k, v)
		}
		if err != nil {
			return fmt.Errorf("set %s: %w", k, err)
		}
	}
	return nil
}
