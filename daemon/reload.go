package daemon

import (
	"fmt"
	"os"

	"github.com/ocicred/ocicred/config"
)

// load reads the config file, resolves its secrets, and refuses a file that
// holds inline secrets and that other users may read.
func (d *Daemon) load() (*config.Config, error) { return loadChecked(d.opts.ConfigPath) }

// loadChecked is load for any path: the daemon's and the controller's rule.
func loadChecked(path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := config.CheckMode(cfg, st.Mode()); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Reload reads the config again. A valid new config is swapped in whole;
// requests already running finish on the old one. An invalid one is
// refused and shown in status, and the old one keeps serving.
func (d *Daemon) Reload(reason string) {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	cfg, err := d.load()
	if err != nil {
		msg := err.Error()
		d.configError.Store(&msg)
		d.log.Error("config refused; still serving the previous one", "reason", reason, "err", err)
		d.metrics.reloads.WithLabelValues("refused").Inc()
		return
	}
	old := d.state.Load()
	d.configError.Store(nil)
	if cfg.Fingerprint() == old.fingerprint {
		d.containerd.apply(cfg, d.tokens) // retries a failed hosts.toml write, restores a deleted one
		d.log.Debug("config unchanged", "reason", reason)
		d.metrics.reloads.WithLabelValues("unchanged").Inc()
		return
	}
	d.opts.Notify("RELOADING=1")
	d.tokens.sync(cfg)
	d.containerd.apply(cfg, d.tokens)
	d.state.Store(newState(cfg, d.tokens, d.containerd))
	if old.cfg.Socket != cfg.Socket || old.cfg.SocketGroup != cfg.SocketGroup || old.cfg.Metrics != cfg.Metrics {
		d.log.Warn("socket, socketGroup and metrics changes take effect at the next restart", "socket", d.socket)
	}
	d.metrics.reloads.WithLabelValues("applied").Inc()
	d.log.Info("config reloaded", "reason", reason, "registries", len(cfg.Registries))
	d.opts.Notify("READY=1")
}

// ConfigError is the error of the last refused reload, or "".
func (d *Daemon) ConfigError() string {
	if p := d.configError.Load(); p != nil {
		return *p
	}
	return ""
}
