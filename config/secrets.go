package config

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ocicred/ocicred/internal/localfile"
	"github.com/ocicred/ocicred/internal/secret"
)

// Sources is where ResolveSecrets reads secrets given by file or
// environment variable. OS is the real one; tests pass their own.
type Sources struct {
	LookupEnv func(string) (string, bool)
	ReadFile  func(string) ([]byte, error)
}

// OS reads the process environment and the file system; its ReadFile is
// ReadSecretFile.
var OS = Sources{LookupEnv: os.LookupEnv, ReadFile: ReadSecretFile}

// maxSecretFile bounds what a secret file may hold, in bytes.
const maxSecretFile = 64 << 10

// FileTimeout bounds the wait for the config file or a secret file to open
// and be read. A file on a hung network mount then fails the load (and a
// reload keeps the previous config) instead of wedging every later reload.
const FileTimeout = 5 * time.Second

// ReadSecretFile reads a secret file without trusting where it points: a
// regular file only (a FIFO, /dev/zero or a folder is refused without
// blocking), at most 64 KiB (more is refused after reading 64 KiB and one
// byte), within FileTimeout. The error wraps a localfile error
// (localfile.ErrNotRegular, ErrTooLarge, ErrTimeout) or the open's
// *fs.PathError; it never holds the file's content.
func ReadSecretFile(path string) ([]byte, error) {
	return localfile.Rules{Limit: maxSecretFile, Timeout: FileTimeout}.Read(path)
}

// ResolveSecrets reads every secret given by passwordFile, passwordEnv,
// secretAccessKeyFile or secretAccessKeyEnv, and reports each one that
// cannot be read, with the place of its field.
func (c *Config) ResolveSecrets(src Sources) error {
	var errs Errors
	for i, r := range c.Registries {
		var se *SecretError
		if err := r.ResolveSecrets(src); errors.As(err, &se) {
			path := fmt.Sprintf("registries[%d].%s", i, se.Field)
			p, _ := c.pos.get(path)
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
	c := r.Credentials
	if c == nil || !r.IsProtected() {
		return nil
	}
	switch r.Type {
	case TypeECR:
		if c.AccessKeyID != "" {
			s, field, err := resolve(src, c.SecretAccessKey, c.SecretAccessKeyFile, c.SecretAccessKeyEnv, "secretAccessKey")
			if err != nil {
				return r.secretError("credentials."+field, err)
			}
			c.resolvedSecretKey = s
		}
	case TypeGAR:
		for _, x := range []struct {
			field string
			cr    *Credentials
		}{{"credentials.", c}, {"credentials.base.", c.Base}} {
			field, cr := x.field, x.cr
			if cr == nil || cr.Type != CredServiceAccountKey {
				continue
			}
			s, f, err := resolveKey(src, cr.KeyFile, cr.KeyEnv)
			if err != nil {
				return r.secretError(field+f, err)
			}
			cr.resolvedKey = s
		}
	case TypeACR:
		if c.Type == CredClientSecret {
			s, field, err := resolve(src, c.ClientSecret, c.ClientSecretFile, c.ClientSecretEnv, "clientSecret")
			if err != nil {
				return r.secretError("credentials."+field, err)
			}
			c.resolvedClientSecret = s
		}
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
			return secret.Secret{}, field + "File", secretFileError(file, err)
		}
		s, err := secretFromFile(b)
		if err != nil {
			return secret.Secret{}, field + "File", fmt.Errorf("%s %w", file, err)
		}
		return s, "", nil
	case env != "":
		s, ok := src.LookupEnv(env)
		if !ok || s == "" {
			return secret.Secret{}, field + "Env", errors.New("the environment variable it names is not set or is empty; set it in the daemon's environment")
		}
		return secret.New(s), "", nil
	}
	return inline, "", nil
}

// resolveKey reads a Google service_account JSON key from file or env and
// checks its shape: a JSON object of "type": "service_account" with
// client_email and private_key. The errors quote nothing of the key.
func resolveKey(src Sources, file, env string) (secret.Secret, string, error) {
	var data []byte
	field := "keyFile"
	switch {
	case file != "":
		b, err := src.ReadFile(file)
		if err != nil {
			return secret.Secret{}, field, secretFileError(file, err)
		}
		data = b
	case env != "":
		field = "keyEnv"
		s, ok := src.LookupEnv(env)
		if !ok || s == "" {
			return secret.Secret{}, field, errors.New("the environment variable it names is not set or is empty; set it in the daemon's environment")
		}
		data = []byte(s)
	default:
		return secret.Secret{}, "", nil
	}
	var key struct {
		Type        string `json:"type"`
		ClientEmail string `json:"client_email"`
		PrivateKey  string `json:"private_key"`
	}
	switch err := json.Unmarshal(data, &key); {
	case err != nil:
		return secret.Secret{}, field, errors.New("is not a JSON service account key; download one with gcloud iam service-accounts keys create")
	case key.Type != "service_account":
		return secret.Secret{}, field, errors.New(`is not a service account key ("type": "service_account"); for an external_account file use type workloadIdentity with configFile`)
	case key.ClientEmail == "" || key.PrivateKey == "":
		return secret.Secret{}, field, errors.New("lacks client_email or private_key; download a new key with gcloud iam service-accounts keys create")
	}
	return secret.New(string(data)), "", nil
}

// secretFileError says why a secret file cannot be used, and what to do.
func secretFileError(file string, err error) error {
	switch {
	case errors.Is(err, localfile.ErrNotRegular):
		return fmt.Errorf("%s is %w; point it at a file that holds only the secret", file, err)
	case errors.Is(err, localfile.ErrTooLarge):
		return fmt.Errorf("%s is larger than 64 KiB; it should hold only the secret", file)
	case errors.Is(err, localfile.ErrTimeout):
		return fmt.Errorf("%s %w (waited %s); check the file system it is on", file, err, FileTimeout)
	}
	return fmt.Errorf("cannot read %s: %w; check the path and that this user may read it", file, unwrapPath(err))
}

// secretFromFile is the secret a secret file holds: its one line, without
// the line ending. A file of several lines is refused: it is the wrong file
// (/etc/shadow given by mistake), and serving it whole would hand all of it
// to every caller as a password. The error holds none of the content.
func secretFromFile(data []byte) (secret.Secret, error) {
	if len(data) > maxSecretFile {
		return secret.Secret{}, errors.New("is larger than 64 KiB; it should hold only the secret")
	}
	s := strings.TrimRight(string(data), "\r\n")
	switch {
	case s == "":
		return secret.Secret{}, errors.New("is empty; write the secret into it")
	case strings.ContainsAny(s, "\r\n"):
		return secret.Secret{}, errors.New("holds more than one line; a secret file holds the secret alone, on one line: is it the right file?")
	case strings.ContainsRune(s, 0):
		return secret.Secret{}, errors.New("holds a NUL byte, which no password or key does: is it the right file?")
	}
	return secret.New(s), nil
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
func (c *Credentials) SecretKey() secret.Secret { return c.resolvedSecretKey }

// ServiceAccountKey is the resolved service_account JSON key of gar
// credentials of type serviceAccountKey (from keyFile or keyEnv), empty
// otherwise or before ResolveSecrets.
func (c *Credentials) ServiceAccountKey() secret.Secret { return c.resolvedKey }

// ClientSecretValue is the resolved client secret of acr credentials of
// type clientSecret, empty otherwise or before ResolveSecrets.
func (c *Credentials) ClientSecretValue() secret.Secret { return c.resolvedClientSecret }

// Files are the files the config refers to whose content the daemon uses:
// password and secret key files and CA files. The daemon's watcher follows
// them, so that a rotated secret is applied as an edited config is.
func (c *Config) Files() []string {
	var out []string
	for _, r := range c.Registries {
		if r == nil {
			continue
		}
		if r.PasswordFile != "" {
			out = append(out, r.PasswordFile)
		}
		for c := r.Credentials; c != nil; c = c.Base {
			for _, f := range []string{c.SecretAccessKeyFile, c.KeyFile, c.ConfigFile, c.ClientSecretFile, c.CertificateFile, c.CertificatePasswordFile} {
				if f != "" {
					out = append(out, f)
				}
			}
		}
		if r.TLS != nil && r.TLS.CA != "" {
			out = append(out, r.TLS.CA)
		}
	}
	return out
}

// HasInlineSecrets reports whether the file itself holds a password or a
// secret access key.
func (c *Config) HasInlineSecrets() bool {
	for _, r := range c.Registries {
		if !r.Password.IsZero() || (r.Credentials != nil && (!r.Credentials.SecretAccessKey.IsZero() || !r.Credentials.ClientSecret.IsZero())) {
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
		for c := r.Credentials; c != nil; c = c.Base {
			for _, s := range []secret.Secret{c.resolvedSecretKey, c.resolvedKey, c.resolvedClientSecret} {
				h.Write([]byte{0})
				h.Write([]byte(s.Reveal()))
			}
		}
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}
