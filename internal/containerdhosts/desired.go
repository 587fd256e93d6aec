package containerdhosts

import (
	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/creds"
)

// TokenFunc gives the current token of a protected registry's identity
// without waiting, and false when there is none yet.
type TokenFunc func(reg *config.Registry) (creds.Token, bool)

// File is one hosts.toml to write: its content and whose it is. It does not
// print its content, which holds a credential.
type File struct {
	Registry string // the registry's name in the config
	Host     string // the registry's host, as the config writes it
	data     []byte
}

// Data is the file's content, a credential in it.
func (f File) Data() []byte { return f.data }

// String names the file, never its content.
func (f File) String() string { return "hosts.toml of registry " + f.Registry }

// GoString is String: %#v shows no credential either.
func (f File) GoString() string { return f.String() }

// HostsDir is cfg's containerd.hostsDir, "" when unset (no file is kept).
func HostsDir(cfg *config.Config) string {
	if cfg.Containerd == nil {
		return ""
	}
	return cfg.Containerd.HostsDir
}

// Kept reports whether ocicred keeps a hosts.toml for reg: a registry
// whose credentials containerd can send as a Basic header
// (config.Registry.ForHostsTOML) and that is for the whole node
// (config.Registry.ForNode), since containerd serves every user of the
// node.
func Kept(reg *config.Registry) bool {
	return reg.ForHostsTOML() && reg.ForNode()
}

// Desired is the hosts.toml of every registry of cfg that Kept keeps and
// whose credentials are known now (tokens gives a protected registry's;
// one that has none yet gets no file, so a file from an earlier run stays
// as it is), in the config's order. It is empty when cfg sets no
// containerd.hostsDir. A registry whose file cannot be rendered is left
// out and its error returned in errs, by registry name.
func Desired(cfg *config.Config, tokens TokenFunc) (files []File, errs map[string]error) {
	if HostsDir(cfg) == "" {
		return nil, nil
	}
	for _, reg := range cfg.Registries {
		if !Kept(reg) {
			continue
		}
		f, ok, err := FileFor(reg, tokens)
		switch {
		case err != nil:
			if errs == nil {
				errs = map[string]error{}
			}
			errs[reg.Name] = err
		case ok:
			files = append(files, f)
		}
	}
	return files, errs
}

// FileFor is reg's hosts.toml with its current credentials: its Basic
// password, or the token that tokens gives. ok is false when they are not
// known yet (no token, or no password loaded); the error is Render's.
func FileFor(reg *config.Registry, tokens TokenFunc) (f File, ok bool, err error) {
	pass := reg.BasicPassword()
	if reg.IsProtected() {
		tok, ok := tokens(reg)
		if !ok {
			return File{}, false, nil
		}
		pass = tok.Password
	}
	if pass.IsZero() {
		return File{}, false, nil
	}
	data, err := Render(reg, reg.User(), pass)
	if err != nil {
		return File{}, false, err
	}
	return File{Registry: reg.Name, Host: reg.Host, data: data}, true, nil
}
