package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/ocicred/ocicred/internal/ecrhost"
	"github.com/ocicred/ocicred/internal/hostkey"
)

var (
	nameRE        = lazyRegexp(`^[A-Za-z0-9._-]+$`)
	roleArnRE     = lazyRegexp(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$`)
	sessionNameRE = lazyRegexp(`^[\w+=,.@-]{2,64}$`)
	envNameRE     = lazyRegexp(`^[A-Z_][A-Z0-9_]{0,127}$`)
	accessKeyRE   = lazyRegexp(`^[A-Z0-9]{16,128}$`)
)

// Limits of STS role sessions.
const (
	MinSessionDuration = 15 * time.Minute
	MaxSessionDuration = 12 * time.Hour
)

// checker validates a decoded file, pointing each error at its field.
type checker struct {
	r   *reporter
	pos places
}

// at is the position of path, or of its nearest parent that the file has.
func (v *checker) at(path string) pos { return nearest(v.pos, path) }

// nearest is the position of path in positions, or of its nearest parent
// that has one.
func nearest(positions places, path string) pos {
	for {
		if p, ok := positions.get(path); ok {
			return p
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			p, _ := positions.get("")
			return p
		}
		path = path[:i]
	}
}

func (v *checker) has(path string) bool { _, ok := v.pos.get(path); return ok }

// errf reports a problem with path, unless the decoder already did.
func (v *checker) errf(path, format string, args ...any) {
	for _, e := range v.r.errs {
		if e.Field == path {
			return
		}
	}
	v.r.add(v.at(path), path, format, args...)
}

func validate(c *Config, positions places, r *reporter) {
	v := &checker{r: r, pos: positions}
	if c.Socket != "" && !filepath.IsAbs(c.Socket) {
		v.errf("socket", "must be an absolute path, such as %s", DefaultSocket)
	}
	if c.Metrics != "" {
		if _, err := HostKey(c.Metrics); err != nil || !strings.Contains(c.Metrics, ":") {
			v.errf("metrics", "must be host:port to listen on, such as 127.0.0.1:9464")
		}
	}
	if c.Containerd != nil && c.Containerd.HostsDir != "" && !filepath.IsAbs(c.Containerd.HostsDir) {
		v.errf("containerd.hostsDir", "must be an absolute path, such as /etc/containerd/certs.d")
	}
	v.kubernetes(c.Kubernetes)
	names, hosts := map[string]string{}, map[string]string{}
	for i, reg := range c.Registries {
		p := fmt.Sprintf("registries[%d]", i)
		if reg == nil {
			v.errf(p, "is empty; give at least name, type and endpoint")
			continue
		}
		v.registry(reg, p)
		if reg.Name != "" {
			if first, dup := names[reg.Name]; dup {
				v.errf(p+".name", "is already the name of %s; names must be unique", first)
			} else {
				names[reg.Name] = p
			}
		}
		if reg.Host != "" {
			if first, dup := hosts[reg.Host]; dup {
				v.errf(p+".endpoint", "%s is already the endpoint of %s; give each registry its own endpoint", reg.Host, first)
			} else {
				hosts[reg.Host] = p
			}
		}
	}
}

func (v *checker) registry(reg *Registry, p string) {
	switch {
	case reg.Name == "":
		v.errf(p+".name", "is required: a unique name of letters, digits, -, _ and .")
	case !nameRE().MatchString(reg.Name):
		v.errf(p+".name", "may hold only letters, digits, -, _ and .")
	}
	v.endpoint(reg, p)
	for j, a := range reg.Allow {
		if strings.TrimSpace(a) == "" || a == "group:" {
			v.errf(fmt.Sprintf("%s.allow[%d]", p, j), "is empty; write a user name, a uid, or group:NAME")
		}
	}
	if v.has(p+".nodeWide") && len(reg.Allow) == 0 {
		v.errf(p+".nodeWide", "applies only to a registry with allow (without it, every consumer gets the registry); remove it")
	}
	v.namespaces(reg.Namespaces, p+".namespaces")
	if reg.TLS != nil && reg.TLS.CA != "" && !filepath.IsAbs(reg.TLS.CA) {
		v.errf(p+".tls.ca", "must be an absolute path to a PEM file")
	}
	v.typeFields(reg, p)
	switch reg.Type {
	case TypeBasic:
		v.basic(reg, p)
	case TypeECR:
		v.ecr(reg, p)
	case TypeGAR:
		v.gar(reg, p)
	case TypeACR:
		v.acr(reg, p)
	case "":
		v.errf(p+".type", "is required: write basic, ecr, gar or acr")
	default:
		v.errf(p+".type", "is not a registry type; write basic, ecr, gar or acr")
	}
}

// cloudFields are the registry fields that only gar or acr take, with the
// type that takes them; basic's and ecr's own fields are checked in basic
// and ecr, with their own advice.
var cloudFields = []struct{ field, typ string }{
	{"tenantId", TypeACR}, {"cloud", TypeACR}, {"authorityHost", TypeACR}, {"disableInstanceDiscovery", TypeACR},
}

// typeFields refuses a registry field that another type takes.
func (v *checker) typeFields(reg *Registry, p string) {
	for _, f := range cloudFields {
		if reg.Type != f.typ && reg.Type != "" && v.has(p+"."+f.field) {
			v.errf(p+"."+f.field, "applies to type %s only; remove it", f.typ)
		}
	}
	if reg.Type == TypeGAR || reg.Type == TypeACR {
		for _, f := range []string{"username", "password", "passwordFile", "passwordEnv", "protected", "region"} {
			if v.has(p + "." + f) {
				v.errf(p+"."+f, "does not apply to type %s, whose password is a token ocicred fetches with credentials; remove it", reg.Type)
			}
		}
	}
}

func (v *checker) endpoint(reg *Registry, p string) {
	f := p + ".endpoint"
	if reg.Endpoint == "" {
		v.errf(f, "is required: the registry's host[:port], such as harbor.example.com:8443")
		return
	}
	if why := endpointSecret(reg.Endpoint); why != "" {
		v.errf(f, "%s", why)
		return
	}
	scheme, host, err := hostkey.Split(reg.Endpoint)
	var ae *hostkey.AddressError
	switch {
	case errors.As(err, &ae):
		v.errf(f, "is not host[:port]: %s", ae.Reason)
	case err != nil:
		v.errf(f, "is not host[:port]")
	case scheme != "" && scheme != "https" && scheme != "http":
		v.errf(f, "the scheme is not supported; write https:// (the default) or http:// for a plain-HTTP registry")
	default:
		reg.Host = host
		reg.Scheme = scheme
		if reg.Scheme == "" {
			reg.Scheme = "https"
		}
	}
}

func (v *checker) basic(reg *Registry, p string) {
	if v.has(p + ".credentials") {
		v.errf(p+".credentials", "applies to token registries (ecr, gar, acr) only; remove it, or set the type")
	}
	for _, f := range []string{"protected", "region"} {
		if v.has(p + "." + f) {
			v.errf(p+"."+f, "applies to type ecr only; remove it, or set type: ecr")
		}
	}
	if reg.Username == "" {
		v.errf(p+".username", "is required for a basic registry")
	}
	v.oneSecret(p, "password", !reg.Password.IsZero(), reg.PasswordFile, reg.PasswordEnv)
}

// oneSecret checks that exactly one of field, fieldFile and fieldEnv is set.
func (v *checker) oneSecret(p, field string, inline bool, file, env string) {
	given := []string{}
	for _, f := range []string{field, field + "File", field + "Env"} {
		if v.has(p + "." + f) {
			given = append(given, f)
		}
	}
	switch {
	case len(given) == 0:
		v.errf(p+"."+field, "is required: write exactly one of %s, %sFile or %sEnv", field, field, field)
		return
	case len(given) > 1:
		v.errf(p+"."+given[1], "%s and %s are both given; keep exactly one", given[0], given[1])
		return
	}
	switch {
	case given[0] == field && !inline:
		v.errf(p+"."+field, "is empty; write the secret, or use %sFile or %sEnv", field, field)
	case given[0] == field+"File" && !filepath.IsAbs(file):
		v.errf(p+"."+given[0], "must be an absolute path to a file holding the secret")
	case given[0] == field+"Env" && !envNameRE().MatchString(env):
		v.errf(p+"."+given[0], "is not an environment variable name: write the variable's name (capital letters, digits and _, such as %s), and put the secret itself in the daemon's environment", envExample[field])
	}
}

// envExample is a variable name to show for each secret field.
var envExample = map[string]string{"password": "HARBOR_PASSWORD", "secretAccessKey": "AWS_SECRET_ACCESS_KEY",
	"clientSecret": "AZURE_CLIENT_SECRET", "key": "GOOGLE_SA_KEY"}

// endpointSecret says why an endpoint may hold a secret, or "": user
// information or a query string, which no registry endpoint needs and in
// which passwords and tokens travel.
func endpointSecret(endpoint string) string {
	switch {
	case hostkey.HasUserInfo(endpoint):
		return "holds a user name or password (user:password@); give only host[:port], and the credentials in username and passwordFile"
	case strings.ContainsAny(endpoint, "?#"):
		return "holds a query string or a #fragment; give only host[:port] (a token in a URL belongs in passwordFile)"
	}
	return ""
}

func (v *checker) ecr(reg *Registry, p string) {
	for _, f := range []string{"username", "password", "passwordFile", "passwordEnv"} {
		if v.has(p + "." + f) {
			v.errf(p+"."+f, "applies to type basic only; ECR registries get their password from AWS; remove it")
		}
	}
	h, isECR := ecrhost.Parse(reg.Host)
	switch {
	case reg.Region != "" && !ecrhost.ValidRegion(reg.Region):
		v.errf(p+".region", "is not an AWS region, such as us-west-2")
	case reg.Region != "" && isECR && !h.Public && h.Region != "" && reg.Region != h.Region:
		// The token must come from the endpoint's own region: a token of
		// another region is refused by the registry.
		v.errf(p+".region", "contradicts the endpoint, whose region is %s; remove region (it is read from the endpoint) or fix the endpoint", h.Region)
	case reg.Region != "":
		h.Region = reg.Region
	case !isECR && reg.Host != "":
		v.errf(p+".region", "is required: %s is not an ECR host name, so its region cannot be inferred; write region: us-east-1 (or the registry's region)", reg.Host)
	}
	if reg.Region != "" && h.Public && reg.Region != ecrhost.PublicRegion {
		v.errf(p+".region", "ECR Public tokens come from %s only; remove region", ecrhost.PublicRegion)
	}
	reg.ECR = h
	if !reg.IsProtected() {
		if reg.Credentials != nil {
			v.errf(p+".credentials", "an unprotected registry takes no credentials; remove them, or set protected: true")
		}
		return
	}
	if reg.Credentials == nil {
		reg.Credentials = &Credentials{Type: CredDefault}
		return
	}
	v.awsCredentials(reg.Credentials, p+".credentials")
}

func (v *checker) awsCredentials(c *Credentials, p string) {
	v.cloudCredentialFields(TypeECR, p)
	only := func(t string, fields ...string) {
		for _, f := range fields {
			if v.has(p + "." + f) {
				v.errf(p+"."+f, "does not apply to type %s; remove it", t)
			}
		}
	}
	switch c.Type {
	case CredSecret:
		only(CredSecret, "roleArn", "externalId", "sessionName", "duration", "profile")
		v.accessKeys(c, p, true)
	case CredSTS:
		v.sts(c, p)
	case CredDefault:
		only(CredDefault, "roleArn", "externalId", "sessionName", "duration",
			"accessKeyId", "secretAccessKey", "secretAccessKeyFile", "secretAccessKeyEnv")
	case "":
		v.errf(p+".type", "is required: write secret, sts or default")
	default:
		v.errf(p+".type", "is not a credentials type; write secret, sts or default")
	}
}

func (v *checker) sts(c *Credentials, p string) {
	if v.has(p + ".profile") {
		v.errf(p+".profile", "does not apply to type sts; the base credentials come from accessKeyId or the default chain")
	}
	switch {
	case c.RoleArn == "":
		v.errf(p+".roleArn", "is required for sts: the role to assume, such as arn:aws:iam::123456789012:role/ecr-pull")
	case !roleArnRE().MatchString(c.RoleArn):
		v.errf(p+".roleArn", "is not an IAM role ARN; write arn:aws:iam::ACCOUNT:role/NAME")
	}
	if c.SessionName != "" && !sessionNameRE().MatchString(c.SessionName) {
		v.errf(p+".sessionName", "must be 2 to 64 letters, digits or +=,.@-_")
	}
	if c.ExternalID != "" && (len(c.ExternalID) < 2 || len(c.ExternalID) > 1224) {
		v.errf(p+".externalId", "must be 2 to 1224 characters long")
	}
	if d := c.Duration.Duration; v.has(p+".duration") && (d < MinSessionDuration || d > MaxSessionDuration) {
		v.errf(p+".duration", "must be from 15m to 12h")
	}
	if v.has(p+".accessKeyId") || v.has(p+".secretAccessKey") || v.has(p+".secretAccessKeyFile") || v.has(p+".secretAccessKeyEnv") {
		v.accessKeys(c, p, false)
	}
}

// accessKeys checks accessKeyId and its one secret source.
func (v *checker) accessKeys(c *Credentials, p string, required bool) {
	switch {
	case c.AccessKeyID == "":
		msg := "is required for type secret"
		if !required {
			msg = "is required when a secret access key is given"
		}
		v.errf(p+".accessKeyId", "%s: the access key id, such as AKIAIOSFODNN7EXAMPLE", msg)
	case !accessKeyRE().MatchString(c.AccessKeyID):
		v.errf(p+".accessKeyId", "is not an access key id: 16 or more capital letters and digits")
	}
	v.oneSecret(p, "secretAccessKey", !c.SecretAccessKey.IsZero(), c.SecretAccessKeyFile, c.SecretAccessKeyEnv)
}
