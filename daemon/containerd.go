package daemon

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/containerdhosts"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/localapi"
	"github.com/ocicred/ocicred/internal/tokensource"
)

// tokenSource gives an identity's current token without waiting (the
// token store).
type tokenSource interface {
	current(reg *config.Registry) (creds.Token, bool)
}

// containerdSink keeps <hostsDir>/<host>/hosts.toml for every registry that
// containerdhosts.Kept keeps, with an Authorization header containerd
// sends on every request (containerd never calls a credential helper). It
// is a reconciler: the files it wants are containerdhosts.Desired of the
// config it was last given and of the token store's current tokens, read
// when it writes; it keeps no tokens of its own, and the file format and
// its I/O are containerdhosts'. apply
// follows the config, refreshed follows the token loops (only the files of
// the identity that changed), status shows write failures. A failed write
// is logged and shown in status, and retried at the next reload or token
// refresh. The tokens come from the engine's published snapshot, which
// is read without a lock: c.mu is the only lock the sink ever holds.
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
// registry with credentials (a protected one once it has a token), and
// removes the files it wrote for registries cfg no longer has. Files in a
// folder that cfg no longer names are removed too.
func (c *containerdSink) apply(cfg *config.Config) {
	dir := containerdhosts.HostsDir(cfg)
	var regs []sinkRegistry
	keep := map[string]bool{}
	if dir != "" {
		for _, r := range cfg.Registries {
			if containerdhosts.Kept(r) {
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
		containerdhosts.Prune(c.log, c.dir, nil)
	}
	c.dir, c.regs, c.errs = dir, regs, map[string]error{}
	if dir == "" {
		return
	}
	files, errs := containerdhosts.Desired(cfg, c.tokens.current)
	for _, f := range files {
		c.write(f)
	}
	for name, err := range errs {
		if reg, ok := cfg.Registry(name); ok {
			c.recordErr(reg, err)
		}
	}
	containerdhosts.Prune(c.log, dir, keep)
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
		if sr.key != key || sr.key == "" {
			continue
		}
		switch f, ok, err := containerdhosts.FileFor(sr.reg, c.tokens.current); {
		case err != nil:
			c.recordErr(sr.reg, err)
		case ok:
			c.write(f)
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

// write brings f's file up to date and records the outcome. c.mu is held.
func (c *containerdSink) write(f containerdhosts.File) {
	changed, err := containerdhosts.Write(c.dir, f)
	if changed {
		c.log.Info("containerd hosts.toml written", "registry", f.Registry, "path", containerdhosts.Path(c.dir, f.Host))
	}
	c.record(f.Registry, f.Host, err)
}

// recordErr records that reg's file could not be rendered. c.mu is held.
func (c *containerdSink) recordErr(reg *config.Registry, err error) {
	c.record(reg.Name, reg.Host, err)
}

// record keeps why the file of registry name (at host) is not as it
// should be, or forgets it when err is nil. c.mu is held.
func (c *containerdSink) record(name, host string, err error) {
	delete(c.errs, host)
	if err != nil {
		err = fmt.Errorf("containerd: %w", err)
		c.errs[host] = err
		c.log.Warn("containerd hosts.toml not written", "registry", name, "err", err)
	}
}
