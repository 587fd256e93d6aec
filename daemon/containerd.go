package daemon

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/pelletier/go-toml/v2"
	"golang.org/x/sys/unix"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/localapi"
	"github.com/ocicred/ocicred/internal/tokensource"
)

// hostsMarker is the first line of every hosts.toml the daemon writes. A
// file that does not start with it is someone else's: never written over,
// never removed.
const hostsMarker = "# written by ocicred: it rewrites this file on every credential change and removes it when the registry leaves the config; do not edit\n"

// markerPrefix is what identifies the marker, whatever its wording later.
const markerPrefix = "# written by ocicred"

// HostsFileMode is the mode of every hosts.toml the daemon writes: it holds
// a credential.
const HostsFileMode = 0o600

// errNotOurs: a hosts.toml exists that the daemon did not write.
var errNotOurs = errors.New("was not written by ocicred; left alone")

// dockerHubServer is where containerd pulls docker.io images from.
const dockerHubServer = "https://registry-1.docker.io"

// tokenSource gives an identity's current token without waiting (the
// token store).
type tokenSource interface {
	current(reg *config.Registry) (creds.Token, bool)
}

// containerdSink keeps <hostsDir>/<host>/hosts.toml for every registry with
// credentials that is for the whole node (config.Registry.ForNode), with an
// Authorization header containerd sends on every request (containerd never
// calls a credential helper). It is a reconciler: the files it wants are a
// function of the config it was last given and of the token store's
// current tokens, read when it writes; it keeps no tokens of its own. apply
// follows the config, refreshed follows the token loops (only the files of
// the identity that changed), status shows write failures. A failed write
// is logged and shown in status, and retried at the next reload or token
// refresh. Lock order: c.mu, then the store's (current); the store never
// calls the sink while holding its own.
type containerdSink struct {
	log    *slog.Logger
	tokens tokenSource

	mu   sync.Mutex
	dir  string           // the config's containerd.hostsDir; "" when unset
	regs []sinkRegistry   // the registries with credentials, when dir is set
	errs map[string]error // by registry host: why its file is not as it should be
}

// sinkRegistry is a registry the sink keeps a file for, with its identity
// key worked out once per config (zero for Basic registries).
type sinkRegistry struct {
	reg *config.Registry
	key tokensource.Key
}

func newContainerdSink(log *slog.Logger, tokens tokenSource) *containerdSink {
	return &containerdSink{log: log, tokens: tokens, errs: map[string]error{}}
}

// apply makes the hosts folder match cfg: it writes the file of every
// registry with credentials (an ECR registry once it has a token), and
// removes the files it wrote for registries cfg no longer has. Files in a
// folder that cfg no longer names are removed too.
func (c *containerdSink) apply(cfg *config.Config) {
	dir := ""
	if cfg.Containerd != nil {
		dir = cfg.Containerd.HostsDir
	}
	var regs []sinkRegistry
	keep := map[string]bool{}
	if dir != "" {
		for _, r := range cfg.Registries {
			if r.ForHostsTOML() && r.ForNode() {
				sr := sinkRegistry{reg: r}
				if r.IsProtected() {
					sr.key = tokensource.KeyOf(r)
				}
				regs = append(regs, sr)
				keep[r.Host] = true
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dir != "" && c.dir != dir {
		c.prune(c.dir, nil)
	}
	c.dir, c.regs, c.errs = dir, regs, map[string]error{}
	if dir == "" {
		return
	}
	for _, sr := range regs {
		c.write(sr.reg)
	}
	c.prune(dir, keep)
}

// refreshed is the token store's onRefresh hook: it rewrites the files of
// every registry sharing the identity. A failed refresh changes nothing:
// the last good token stays in the files until a new one comes.
func (c *containerdSink) refreshed(key tokensource.Key, err error) {
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dir == "" {
		return
	}
	for _, sr := range c.regs {
		if sr.key == key && sr.key != "" {
			c.write(sr.reg)
		}
	}
}

// status adds why reg's hosts.toml is not as it should be to its status.
func (c *containerdSink) status(reg *config.Registry, rs *localapi.RegistryStatus) {
	c.mu.Lock()
	err := c.errs[reg.Host]
	c.mu.Unlock()
	switch {
	case err == nil:
	case rs.LastError == "":
		rs.LastError = err.Error()
	default:
		rs.LastError += "; " + err.Error()
	}
}

// write brings reg's file up to date with the store's current token (or
// its Basic password) and records the outcome. c.mu is held.
func (c *containerdSink) write(reg *config.Registry) {
	user, pass := reg.Username, reg.BasicPassword()
	if reg.IsProtected() {
		tok, ok := c.tokens.current(reg)
		if !ok {
			return // no token yet: a file from an earlier run stays as it is
		}
		user, pass = reg.User(), tok.Password
	}
	if pass.IsZero() {
		return
	}
	data, err := renderHostsFile(reg, user+":"+pass.Reveal())
	if err == nil {
		var changed bool
		if changed, err = writeHostsFile(c.dir, reg.Host, data); changed {
			c.log.Info("containerd hosts.toml written", "registry", reg.Name, "path", hostsPath(c.dir, reg.Host))
		}
	}
	delete(c.errs, reg.Host)
	if err != nil {
		err = fmt.Errorf("containerd: %w", err)
		c.errs[reg.Host] = err
		c.log.Warn("containerd hosts.toml not written", "registry", reg.Name, "err", err)
	}
}

// prune removes the files it wrote in dir for hosts that keep does not
// list, and their folders when nothing else is left in them; and the temp
// files of interrupted writes in every host's folder. It follows no link.
func (c *containerdSink) prune(dir string, keep map[string]bool) {
	root, err := openFolder(nil, dir, false)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.log.Warn("containerd hosts folder not usable", "dir", dir, "err", err)
		}
		return
	}
	defer root.Close()
	entries, err := root.ReadDir(-1)
	if err != nil {
		c.log.Warn("containerd hosts folder not readable", "dir", dir, "err", err)
		return
	}
	for _, e := range entries {
		if e.IsDir() {
			c.pruneHost(root, e.Name(), keep[e.Name()])
		}
	}
}

// pruneHost cleans one host's folder; unless keep, it removes the
// hosts.toml the daemon wrote there, and the folder once empty.
func (c *containerdSink) pruneHost(root *os.File, host string, keep bool) {
	folder, err := openFolder(root, host, false)
	if err != nil {
		return // a link, or a folder that is not ours to change
	}
	defer folder.Close()
	removeStaleTemps(folder)
	if keep {
		return
	}
	path := hostsPath(root.Name(), host)
	if data, _, err := readOurs(folder, path); err != nil || data == nil {
		return // not ours, or no file: none of our business
	}
	if err := unix.Unlinkat(int(folder.Fd()), hostsFileName, 0); err != nil {
		c.log.Warn("containerd hosts.toml not removed", "path", path, "err", err)
		return
	}
	_ = unix.Unlinkat(int(root.Fd()), host, unix.AT_REMOVEDIR) // only when empty
	c.log.Info("containerd hosts.toml removed: the registry left the config", "path", path)
}

// hostsPath is where containerd looks for host's hosts.toml.
func hostsPath(dir, host string) string { return filepath.Join(dir, host, hostsFileName) }

// hostsServer is the top of containerd's hosts.toml; the [host] table
// follows it (renderHostsFile).
type hostsServer struct {
	Server string `toml:"server"`
}

type hostEntry struct {
	Capabilities []string            `toml:"capabilities"`
	CA           string              `toml:"ca,omitempty"`
	SkipVerify   bool                `toml:"skip_verify,omitempty"`
	Header       map[string][]string `toml:"header"`
}

// renderHostsFile is reg's hosts.toml with userPass as its Basic
// credentials. A host entry keyed "<scheme>://<host>" under [host] is what
// containerd 1.6 needs to use the file at all, and to speak plain HTTP when
// it says http. The entry is an inline table under a plain [host] header:
// containerd 1.6's TOML parser (go-toml v1) rejects a table header
// [host."http://[::1]:5000"] whatever the quoting ("table key cannot
// contain ']'"), which would send an IPv6 registry's pulls without
// credentials, while it reads the same key inside [host].
func renderHostsFile(reg *config.Registry, userPass string) ([]byte, error) {
	server := reg.ServerURL()
	if reg.Host == "docker.io" {
		server = dockerHubServer
	}
	entry := hostEntry{
		Capabilities: []string{"pull", "resolve"},
		Header:       map[string][]string{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(userPass))}},
	}
	if reg.TLS != nil {
		entry.CA, entry.SkipVerify = reg.TLS.CA, reg.TLS.InsecureSkipVerify
	}
	var b bytes.Buffer
	b.WriteString(hostsMarker)
	if err := toml.NewEncoder(&b).Encode(hostsServer{Server: server}); err != nil {
		return nil, fmt.Errorf("encode hosts.toml for %s: %w", reg.Host, err)
	}
	b.WriteString("\n[host]\n")
	if err := toml.NewEncoder(&b).SetTablesInline(true).Encode(map[string]hostEntry{server: entry}); err != nil {
		return nil, fmt.Errorf("encode hosts.toml for %s: %w", reg.Host, err)
	}
	return b.Bytes(), nil
}

// bare drops the path an *os.PathError repeats (the temp file's name).
func bare(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
