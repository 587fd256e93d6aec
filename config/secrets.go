package config

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ocicred/ocicred/internal/secret"
)

// Sources is where ResolveSecrets reads secrets given by file or
// environment variable. OS is the real one; tests pass their own.
type Sources struct {
	LookupEnv func(string) (string, bool)
	ReadFile  func(string) ([]byte, error)
}

// OS reads the process environment and the file system.
var OS = Sources{LookupEnv: os.LookupEnv, ReadFile: os.ReadFile}

// maxSecretFile bounds what a secret file may hold.
const maxSecretFile = 64 << 10

// ResolveSecrets reads every secret given by passwordFile, passwordEnv,
// secretAccessKeyFile or secretAccessKeyEnv, and reports each one that
// cannot be read, with the place of its field.
func (c *Config) ResolveSecrets(src Sources) error {
	var errs Errors
	for i, r := range c.Registries {
		var se *SecretError
		if err := r.ResolveSecrets(src); errors.As(err, &se) {
			path := fmt.Sprintf("registries[%d].%s", i, se.Field)
			p := c.pos[path]
			errs = append(errs, &Error{File: c.File, Line: p.line, Column: p.col, Field: path, Msg: se.Err.Error()})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// SecretError is a secret that cannot be read.
type SecretError struct {
	Registry string
	Field    string // passwordFile, credentials.secretAccessKeyEnv, …
	Err      error
}

func (e *SecretError) Error() string {
	return fmt.Sprintf("registry %s: %s: %v", e.Registry, e.Field, e.Err)
}

func (e *SecretError) Unwrap() error { return e.Err }

// ResolveSecrets reads this registry's secret from its file or environment
// variable, if it has one there. The error is a *SecretError.
func (r *Registry) ResolveSecrets(src Sources) error {
	if r.Type == TypeBasic {
		s, field, err := resolve(src, r.Password, r.PasswordFile, r.PasswordEnv, "password")
		if err != nil {
			return r.secretError(field, err)
		}
		r.resolvedPassword = s
	}
	if c := r.Credentials; c != nil && r.IsProtected() && c.AccessKeyID != "" {
		s, field, err := resolve(src, c.SecretAccessKey, c.SecretAccessKeyFile, c.SecretAccessKeyEnv, "secretAccessKey")
		if err != nil {
			return r.secretError("credentials."+field, err)
		}
		c.resolvedSecretKey = s
	}
	return nil
}

func (r *Registry) secretError(field string, err error) error {
	return &SecretError{Registry: r.Name, Field: field, Err: err}
}

func resolve(src Sources, inline secret.Secret, file, env, field string) (secret.Secret, string, error) {
	switch {
	case file != "":
		b, err := src.ReadFile(file)
		if err != nil {
			return secret.Secret{}, field + "File", fmt.Errorf("cannot read %s: %w; check the path and that this user may read it", file, unwrapPath(err))
		}
		if len(b) > maxSecretFile {
			return secret.Secret{}, field + "File", fmt.Errorf("%s is larger than 64 KiB; it should hold only the secret", file)
		}
		s := strings.TrimRight(string(b), "\r\n")
		if s == "" {
			return secret.Secret{}, field + "File", fmt.Errorf("%s is empty; write the secret into it", file)
		}
		return secret.New(s), "", nil
	case env != "":
		s, ok := src.LookupEnv(env)
		if !ok || s == "" {
			return secret.Secret{}, field + "Env", fmt.Errorf("environment variable %s is not set or empty; set it in the daemon's environment", env)
		}
		return secret.New(s), "", nil
	}
	return inline, "", nil
}

// unwrapPath drops the path an *os.PathError repeats.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// BasicPassword is the resolved password of a Basic registry.
func (r *Registry) BasicPassword() secret.Secret { return r.resolvedPassword }

// SecretKey is the resolved secret access key, empty when the
// registry uses the default chain.
func (c *AWSCredentials) SecretKey() secret.Secret { return c.resolvedSecretKey }

// HasInlineSecrets reports whether the file itself holds a password or a
// secret access key.
func (c *Config) HasInlineSecrets() bool {
	for _, r := range c.Registries {
		if !r.Password.IsZero() || (r.Credentials != nil && !r.Credentials.SecretAccessKey.IsZero()) {
			return true
		}
	}
	return false
}

// Fingerprint identifies a loaded file together with the secrets it
// resolved: a rotated passwordFile changes it although the file did not.
func (c *Config) Fingerprint() [32]byte {
	h := sha256.New()
	h.Write(c.Digest[:])
	for _, r := range c.Registries {
		h.Write([]byte{0})
		h.Write([]byte(r.resolvedPassword.Reveal()))
		if r.Credentials != nil {
			h.Write([]byte{0})
			h.Write([]byte(r.Credentials.resolvedSecretKey.Reveal()))
		}
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}
