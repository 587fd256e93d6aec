package config

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ocicred/ocicred/internal/defaults"
	"github.com/ocicred/ocicred/internal/ecrhost"
	"github.com/ocicred/ocicred/internal/secret"
)

// Defaults of the fields a file may leave out.
const (
	DefaultPath   = defaults.ConfigPath
	DefaultSocket = defaults.Socket
)

// Registry types (spec, "The config file" and "Other clouds").
const (
	TypeBasic = "basic"
	TypeECR   = "ecr"
	TypeGAR   = "gar" // Google Artifact Registry and Container Registry
	TypeACR   = "acr" // Azure Container Registry
)

// Credential types. secret and sts are AWS's; serviceAccountKey and
// impersonate Google's; clientSecret, clientCertificate and
// managedIdentity Azure's; workloadIdentity is Google's (an external_account
// file) or Azure's (a federated token file) by the registry type; default
// is each cloud's default chain.
const (
	CredSecret            = "secret"  // AWS access key id and secret access key
	CredSTS               = "sts"     // AWS AssumeRole, with given or default-chain base keys
	CredDefault           = "default" // the cloud SDK's default chain
	CredServiceAccountKey = "serviceAccountKey"
	CredImpersonate       = "impersonate"
	CredWorkloadIdentity  = "workloadIdentity"
	CredClientSecret      = "clientSecret"
	CredClientCertificate = "clientCertificate"
	CredManagedIdentity   = "managedIdentity"
)

// User names that token registries answer (spec, "Other clouds"): ECR's
// is fixed by AWS; Google documents oauth2accesstoken for access tokens;
// ACR takes the null GUID with an ACR refresh token.
const (
	UserECR = "AWS"
	UserGAR = "oauth2accesstoken"
	UserACR = "00000000-0000-0000-0000-000000000000"
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
	// Mode is the mode of the file Read read (from the open file, so it is
	// the file's whose bytes were parsed); zero after Parse alone.
	Mode fs.FileMode `yaml:"-"`

	// pos finds every field's place in the file while the file is
	// checked; afterwards (keepSecretPositions) only what ResolveSecrets
	// may still point at.
	pos places
	// byHost indexes Registries by Host for Lookup (the first registry of
	// a host wins, as in a scan); nil for a Config not built by Parse or
	// Load, which Lookup then scans.
	byHost map[string]*Registry
}

// finish readies a checked config to be kept: it indexes the registries
// and drops the places no error can use any more.
func (c *Config) finish() {
	c.byHost = make(map[string]*Registry, len(c.Registries))
	for _, r := range c.Registries {
		if _, dup := c.byHost[r.Host]; r != nil && !dup {
			c.byHost[r.Host] = r
		}
	}
	c.keepSecretPositions()
}

// keepSecretPositions drops the places of every field but the secret
// files and variables that ResolveSecrets reports, and with them the
// parsed tree, for errors already reported (a map of every field's place
// was half of what a daemon kept for a large config: 8 MiB of 15 MiB at
// 10,000 registries).
func (c *Config) keepSecretPositions() {
	kept := map[string]pos{}
	keep := func(i int, field string) {
		path := "registries[" + strconv.Itoa(i) + "]." + field
		if p, ok := c.pos.get(path); ok {
			kept[path] = p
		}
	}
	for i, r := range c.Registries {
		if r == nil {
			continue
		}
		if r.PasswordFile != "" || r.PasswordEnv != "" {
			keep(i, "passwordFile")
			keep(i, "passwordEnv")
		}
		if cr := r.Credentials; cr != nil {
			for _, f := range []string{"secretAccessKeyFile", "secretAccessKeyEnv", "keyFile", "keyEnv", "clientSecretFile", "clientSecretEnv",
				"base.keyFile", "base.keyEnv"} {
				keep(i, "credentials."+f)
			}
		}
	}
	c.pos = places{kept: kept}
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
	// NodeWide lets a registry with allow be served to node-wide consumers
	// too; see ForNode.
	NodeWide bool `yaml:"nodeWide"`
	// Namespaces limits which Kubernetes namespaces get this registry's
	// credentials from `ocicred controller`; empty: every selected one.
	Namespaces []string `yaml:"namespaces"`

	// ECR.
	Protected *bool  `yaml:"protected"`
	Region    string `yaml:"region"`

	// ECR, GAR and ACR: the identity the token is fetched with.
	Credentials *Credentials `yaml:"credentials"`

	// ACR: the registry's Entra ID tenant and where its authority is.
	TenantID                 string `yaml:"tenantId"`
	Cloud                    string `yaml:"cloud"`         // public, china or usgov; empty: AZURE_AUTHORITY_HOST, else public
	AuthorityHost            string `yaml:"authorityHost"` // an https URL, for private or sovereign clouds
	DisableInstanceDiscovery bool   `yaml:"disableInstanceDiscovery"`

	// Derived by Parse.
	Host   string       `yaml:"-"` // normalised host[:port], the key clients are matched on
	Scheme string       `yaml:"-"` // "https" or "http"
	ECR    ecrhost.Host `yaml:"-"` // what an ECR endpoint says about itself; Region is the effective region

	// Filled by ResolveSecrets.
	resolvedPassword secret.Secret
}

// Credentials is how a token registry gets its identity: AWS's for ecr,
// Google's for gar, Entra ID's for acr. Which fields apply depends on the
// registry type and Type; validation refuses the others.
type Credentials struct {
	Type string `yaml:"type"`

	// AWS (ecr).
	RoleArn             string        `yaml:"roleArn"`
	ExternalID          string        `yaml:"externalId"`
	SessionName         string        `yaml:"sessionName"`
	Duration            Duration      `yaml:"duration"`
	AccessKeyID         string        `yaml:"accessKeyId"`
	SecretAccessKey     secret.Secret `yaml:"secretAccessKey"`
	SecretAccessKeyFile string        `yaml:"secretAccessKeyFile"`
	SecretAccessKeyEnv  string        `yaml:"secretAccessKeyEnv"`
	Profile             string        `yaml:"profile"`

	// Google (gar).
	KeyFile        string       `yaml:"keyFile"`        // serviceAccountKey: a service_account JSON key
	KeyEnv         string       `yaml:"keyEnv"`         // serviceAccountKey: a variable holding that JSON
	ServiceAccount string       `yaml:"serviceAccount"` // impersonate: the service account's email
	Lifetime       Duration     `yaml:"lifetime"`       // impersonate; zero: 1h
	Base           *Credentials `yaml:"base"`           // impersonate: who impersonates; nil: the default chain
	ConfigFile     string       `yaml:"configFile"`     // workloadIdentity: an external_account JSON file
	Scopes         []string     `yaml:"scopes"`         // OAuth2 scopes; empty: DefaultGoogleScope

	// Azure (acr).
	ClientID                string        `yaml:"clientId"`
	ClientSecret            secret.Secret `yaml:"clientSecret"`
	ClientSecretFile        string        `yaml:"clientSecretFile"`
	ClientSecretEnv         string        `yaml:"clientSecretEnv"`
	CertificateFile         string        `yaml:"certificateFile"`         // clientCertificate: PEM (certificate and unencrypted key), or PKCS#12 with a password
	CertificatePasswordFile string        `yaml:"certificatePasswordFile"` // clientCertificate: the PKCS#12 file's password
	ResourceID              string        `yaml:"resourceId"`              // managedIdentity: a user-assigned identity's resource id
	TokenFile               string        `yaml:"tokenFile"`               // workloadIdentity: empty: $AZURE_FEDERATED_TOKEN_FILE

	resolvedSecretKey    secret.Secret
	resolvedKey          secret.Secret
	resolvedClientSecret secret.Secret
}

// DefaultGoogleScope is the OAuth2 scope a gar token is asked for when
// the config names none: Artifact Registry checks IAM roles, not scopes.
const DefaultGoogleScope = "https://www.googleapis.com/auth/cloud-platform"

// Duration is a time.Duration written as "1h" or "90m".
type Duration struct{ time.Duration }

// IsProtected reports whether the registry's password is a token that
// ocicred fetches and refreshes: a protected ECR registry (protected is
// true by default), and every gar and acr registry.
func (r *Registry) IsProtected() bool {
	switch r.Type {
	case TypeECR:
		return r.Protected == nil || *r.Protected
	case TypeGAR, TypeACR:
		return true
	}
	return false
}

// NodeWideNote says why a registry is left out of node-wide consumers;
// status and config validate show it.
const NodeWideNote = "allow restricts it, so containerd's hosts.toml and the kubelet plugin (matchImages) leave it out: they serve every user and pod on the node; set nodeWide: true to include it"

// ForNode reports whether node-wide consumers get this registry's
// credentials: containerd's hosts.toml and the kubelet plugin, which serve
// every pull on the node, whoever asks. A registry without allow, yes; one
// with allow only when nodeWide: true says so, or they would hand out what
// allow withholds.
func (r *Registry) ForNode() bool { return len(r.Allow) == 0 || r.NodeWide }

// HostsTOMLNote says why containerd's hosts.toml is not written for a gar
// or acr registry; status and config validate show it (spec, "Other
// clouds").
const HostsTOMLNote = "containerd's hosts.toml is not written for gar and acr registries: that they accept these credentials directly on /v2/ is unproven; containerd gets them through the kubelet plugin (CRI pulls) or the credential helper (nerdctl)"

// ForHostsTOML reports whether containerd's hosts.toml may carry this
// registry's credentials: Basic registries and protected ECR registries,
// which take Basic credentials on /v2/ directly; not gar or acr (see
// HostsTOMLNote). ForNode must hold too.
func (r *Registry) ForHostsTOML() bool {
	return r.Type == TypeBasic || (r.Type == TypeECR && r.IsProtected())
}

// ServerURL is how clients reach the registry: scheme://host[:port].
func (r *Registry) ServerURL() string { return r.Scheme + "://" + r.Host }

// User is what clients send as the user name: the configured one for
// Basic registries, UserECR, UserGAR or UserACR for token registries.
func (r *Registry) User() string {
	switch r.Type {
	case TypeECR:
		return UserECR
	case TypeGAR:
		return UserGAR
	case TypeACR:
		return UserACR
	}
	return r.Username
}

// Parse decodes and validates a configuration file. name is used in error
// messages only: Parse reads no file and no environment. Secrets given by
// file or environment variable are not read; see ResolveSecrets.
//
// A file whose aliases expand it to more than MaxValues values is refused
// before it is decoded.
func Parse(data []byte, name string) (*Config, error) {
	c, _, err := parse(data, name, MaxValues)
	return c, err
}

// parseReport is parse that keeps going: it returns the decoded config
// (nil only when the file is not YAML at all or expands too far) and the
// reporter holding every error so far, so that Load can add the machine's
// checks and report everything at once.
func parseReport(data []byte, name string) (*Config, *reporter) {
	r := &reporter{file: name}
	c, _ := decodeValidate(data, name, MaxValues, r)
	return c, r
}

// parse is Parse with its bound on values as an argument; it also returns
// how many values the decoder visited, which never exceeds the bound.
func parse(data []byte, name string, maxValues int) (*Config, int, error) {
	r := &reporter{file: name}
	c, visits := decodeValidate(data, name, maxValues, r)
	if err := r.err(); err != nil {
		return nil, visits, err
	}
	c.finish()
	return c, visits, nil
}

// decodeValidate decodes and validates data into a Config, adding every
// error to r. The Config is nil when the file is not YAML or expands past
// maxValues; visits is how many values the decoder visited.
func decodeValidate(data []byte, name string, maxValues int, r *reporter) (c *Config, visits int) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil && !errors.Is(err, io.EOF) {
		p, msg := syntaxError(err, data)
		r.add(p, "", "not valid YAML or JSON: %s", msg)
		return nil, 0
	}
	if root.Kind == 0 || (root.Kind == yaml.DocumentNode && len(root.Content) == 1 && isNull(root.Content[0])) {
		// A truncated or emptied file must not remove every registry.
		r.add(pos{1, 1}, "", "the file is empty (nothing, or only comments); write registries: [] to configure no registry")
		return nil, 0
	}
	if err := checkExpansion(&root, maxValues); err != nil {
		r.add(err.at, "", "%s", err.msg)
		return nil, 0
	}
	c = &Config{File: name, Digest: digest(data)}
	d := &decoder{r: r}
	d.decode(&root, "", reflect.ValueOf(c).Elem())
	c.pos = treePlaces(&root)
	validate(c, c.pos, r)
	return c, d.visits
}

var yamlLineRE = lazyRegexp(`^yaml: line (\d+): (.*)$`)

// syntaxError finds the place of a YAML syntax error in data. The parser
// says only a line, not always the right one: for a tab in the
// indentation it names the line before, and for an empty flow collection
// followed by indented entries (the sample config's `registries: []` with
// its examples uncommented) it says "did not find expected key" at the top.
// Those two are found in data itself; otherwise the error points at the
// first column of the line the parser gives.
func syntaxError(err error, data []byte) (pos, string) {
	m := yamlLineRE().FindStringSubmatch(err.Error())
	if m == nil {
		return pos{1, 1}, err.Error()
	}
	line, _ := strconv.Atoi(m[1])
	msg := m[2]
	lines := strings.Split(string(data), "\n")
	if strings.Contains(msg, "tab character") {
		for i := max(line-1, 0); i < len(lines); i++ {
			indent := lines[i][:len(lines[i])-len(strings.TrimLeft(lines[i], " \t"))]
			if j := strings.IndexByte(indent, '\t'); j >= 0 {
				return pos{i + 1, j + 1}, "a tab in the indentation; indent with spaces only"
			}
		}
	}
	for i := 0; i+1 < len(lines); i++ {
		key, ok := emptyFlowKey(lines[i])
		if !ok {
			continue
		}
		indent := len(lines[i]) - len(strings.TrimLeft(lines[i], " "))
		for k := i + 1; k < len(lines); k++ {
			next := strings.TrimSpace(lines[k])
			if next == "" || strings.HasPrefix(next, "#") {
				continue
			}
			if len(lines[k])-len(strings.TrimLeft(lines[k], " ")) > indent {
				return pos{k + 1, indent + 1}, fmt.Sprintf("%s: on line %d says an empty list or map, yet indented entries follow; remove the brackets after %s:", key, i+1, key)
			}
			break
		}
	}
	return pos{line, 1}, msg
}

// emptyFlowKey reports whether line is "KEY: []" or "KEY: {}" (a comment
// may follow) and returns KEY.
func emptyFlowKey(line string) (string, bool) {
	line, _, _ = strings.Cut(line, " #")
	key, val, ok := strings.Cut(strings.TrimSpace(line), ":")
	val = strings.TrimSpace(val)
	if !ok || key == "" || strings.ContainsAny(key, " \"'") || (val != "[]" && val != "{}") {
		return "", false
	}
	return key, true
}

func digest(data []byte) [32]byte { return sha256.Sum256(data) }

// lazyRegexp compiles pattern on first use: the helper links this package
// and starts on every pull, so package init must not compile patterns.
func lazyRegexp(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}
