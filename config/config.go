package config

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ocicred/ocicred/internal/ecrhost"
	"github.com/ocicred/ocicred/internal/localapi"
	"github.com/ocicred/ocicred/internal/secret"
)

// Defaults of the fields a file may leave out.
const (
	DefaultPath   = "/etc/ocicred/config.yaml"
	DefaultSocket = localapi.DefaultSocket
)

// Registry types.
const (
	TypeBasic = "basic"
	TypeECR   = "ecr"
)

// AWS credential types of a protected ECR registry.
const (
	CredSecret  = "secret"  // access key id and secret access key
	CredSTS     = "sts"     // AssumeRole, with given or default-chain base keys
	CredDefault = "default" // the AWS SDK default chain
)

// Config is one configuration file.
type Config struct {
	Socket      string      `yaml:"socket"`
	SocketGroup string      `yaml:"socketGroup"`
	Metrics     string      `yaml:"metrics"`
	Containerd  *Containerd `yaml:"containerd"`
	Kubernetes  *Kubernetes `yaml:"kubernetes"`
	Registries  []*Registry `yaml:"registries"`

	// File is the name the file was parsed under.
	File string `yaml:"-"`
	// Digest identifies the file's bytes: equal digests, equal files.
	Digest [32]byte `yaml:"-"`

	pos map[string]pos // field path → place in the file
}

// Containerd configures the hosts.toml files the daemon keeps.
type Containerd struct {
	HostsDir string `yaml:"hostsDir"`
}

// TLS is how to reach a registry over HTTPS.
type TLS struct {
	CA                 string `yaml:"ca"`
	InsecureSkipVerify bool   `yaml:"insecureSkipVerify"`
}

// Registry is one registry definition.
type Registry struct {
	Name     string `yaml:"name"`
	Type     string `yaml:"type"`
	Endpoint string `yaml:"endpoint"`
	TLS      *TLS   `yaml:"tls"`

	// Basic.
	Username     string        `yaml:"username"`
	Password     secret.Secret `yaml:"password"`
	PasswordFile string        `yaml:"passwordFile"`
	PasswordEnv  string        `yaml:"passwordEnv"`

	Allow []string `yaml:"allow"`
	// Namespaces limits which Kubernetes namespaces get this registry's
	// credentials from `ocicred controller`; empty: every selected one.
	Namespaces []string `yaml:"namespaces"`

	// ECR.
	Protected   *bool           `yaml:"protected"`
	Region      string          `yaml:"region"`
	Credentials *AWSCredentials `yaml:"credentials"`

	// Derived by Parse.
	Host   string       `yaml:"-"` // normalised host[:port], the key clients are matched on
	Scheme string       `yaml:"-"` // "https" or "http"
	ECR    ecrhost.Host `yaml:"-"` // what an ECR endpoint says about itself; Region is the effective region

	// Filled by ResolveSecrets.
	resolvedPassword secret.Secret
}

// AWSCredentials is how a protected ECR registry gets its AWS identity.
type AWSCredentials struct {
	Type                string        `yaml:"type"`
	RoleArn             string        `yaml:"roleArn"`
	ExternalID          string        `yaml:"externalId"`
	SessionName         string        `yaml:"sessionName"`
	Duration            Duration      `yaml:"duration"`
	AccessKeyID         string        `yaml:"accessKeyId"`
	SecretAccessKey     secret.Secret `yaml:"secretAccessKey"`
	SecretAccessKeyFile string        `yaml:"secretAccessKeyFile"`
	SecretAccessKeyEnv  string        `yaml:"secretAccessKeyEnv"`
	Profile             string        `yaml:"profile"`

	resolvedSecretKey secret.Secret
}

// Duration is a time.Duration written as "1h" or "90m".
type Duration struct{ time.Duration }

// IsProtected reports whether an ECR registry needs a token (the default).
func (r *Registry) IsProtected() bool {
	return r.Type == TypeECR && (r.Protected == nil || *r.Protected)
}

// ServerURL is how clients reach the registry: scheme://host[:port].
func (r *Registry) ServerURL() string { return r.Scheme + "://" + r.Host }

// User is what clients send as the user name: the configured one for
// Basic registries, AWS for ECR.
func (r *Registry) User() string {
	if r.Type == TypeECR {
		return "AWS"
	}
	return r.Username
}

// Parse decodes and validates a configuration file. name is used in error
// messages only: Parse reads no file and no environment. Secrets given by
// file or environment variable are not read; see ResolveSecrets.
func Parse(data []byte, name string) (*Config, error) {
	r := &reporter{file: name}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil && !errors.Is(err, io.EOF) {
		p, msg := syntaxError(err)
		r.add(p, "", "not valid YAML or JSON: %s", msg)
		return nil, r.err()
	}
	c := &Config{File: name, Digest: digest(data)}
	d := &decoder{r: r, pos: map[string]pos{}}
	if root.Kind != 0 {
		d.decode(&root, "", reflect.ValueOf(c).Elem())
	}
	validate(c, d.pos, r)
	c.pos = d.pos
	if err := r.err(); err != nil {
		return nil, err
	}
	return c, nil
}

var yamlLineRE = lazyRegexp(`^yaml: line (\d+): (.*)$`)

// syntaxError finds the line in a YAML syntax error. The parser does not say
// the column, so the error points at the line's first.
func syntaxError(err error) (pos, string) {
	m := yamlLineRE().FindStringSubmatch(err.Error())
	if m == nil {
		return pos{1, 1}, err.Error()
	}
	line, _ := strconv.Atoi(m[1])
	return pos{line, 1}, m[2]
}

func digest(data []byte) [32]byte { return sha256.Sum256(data) }

// lazyRegexp compiles pattern on first use: the helper links this package
// and starts on every pull, so package init must not compile patterns.
func lazyRegexp(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}
