package config

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/ocicred/ocicred/internal/access"
	"github.com/ocicred/ocicred/internal/localfile"
)

// maxCAFile bounds a tls.ca file, in bytes.
const maxCAFile = 1 << 20

// checkMachine checks c against this machine, as the daemon does at start
// and on every reload: the group socketGroup names and the users and
// groups allow names exist, CA files are readable PEM, every secret can be
// read, and a file holding an inline secret is not readable by others. It
// resolves the secrets on the way. Every problem goes to r at the position
// of its field, so that `config validate` and the daemon report the same
// errors, all at once (spec, "Operating it"). No value from the file is
// quoted: a secret pasted into the wrong field must not be echoed.
func checkMachine(c *Config, src Sources, r *reporter) {
	at := func(path string) pos { return nearest(c.pos, path) }
	if c.SocketGroup != "" {
		if _, err := access.GroupID(c.SocketGroup); err != nil {
			r.addOnce(at("socketGroup"), "socketGroup", "names a group that does not exist on this machine; create it (groupadd --system NAME) or change socketGroup")
		}
	}
	for i, reg := range c.Registries {
		if reg == nil {
			continue
		}
		p := fmt.Sprintf("registries[%d]", i)
		for j, entry := range reg.Allow {
			if err := access.CheckEntry(entry); err != nil {
				f := fmt.Sprintf("%s.allow[%d]", p, j)
				r.addOnce(at(f), f, "%v; a name that does not resolve matches nobody", err)
			}
		}
		if reg.TLS != nil && reg.TLS.CA != "" {
			if err := checkCA(reg.TLS.CA); err != nil {
				r.addOnce(at(p+".tls.ca"), p+".tls.ca", "%v", err)
			}
		}
		var se *SecretError
		if err := reg.ResolveSecrets(src); errors.As(err, &se) {
			f := p + "." + se.Field
			r.addOnce(at(f), f, "%v", se.Err)
		} else if err != nil {
			r.addOnce(at(p), p, "%v", err)
		}
	}
	if c.HasInlineSecrets() && c.Mode.Perm()&0o004 != 0 {
		r.addOnce(pos{1, 1}, "", "%v (mode %04o); run chmod o-r on it, or move the secrets to passwordFile, passwordEnv, secretAccessKeyFile or secretAccessKeyEnv",
			ErrWorldReadable, c.Mode.Perm())
	}
}

// checkCA reads a CA file as the TLS code will: a regular file, within
// FileTimeout and maxCAFile, holding a PEM certificate.
func checkCA(path string) error {
	data, err := localfile.Rules{Limit: maxCAFile, Timeout: FileTimeout}.Read(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errors.New("no such file; write the path of the registry's CA certificate (PEM)")
	case err != nil:
		return fmt.Errorf("cannot read the CA file: %w", unwrapPath(err))
	case !strings.Contains(string(data), "-----BEGIN CERTIFICATE-----"):
		return errors.New("holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
	}
	return nil
}
