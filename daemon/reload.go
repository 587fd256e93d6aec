package daemon

import (
	"context"
	"log/slog"
	"runtime/debug"

	"github.com/ocicred/ocicred/config"
)

// load reads the config file with config.Load: parsed, checked against
// this machine (as `ocicred config validate` does), secrets resolved.
func (d *Daemon) load() (*config.Config, error) { return loadChecked(d.opts.ConfigPath) }

// loadChecked is load for any path: the daemon's and the controller's rule
// (config.Load checks the file's mode too).
func loadChecked(path string) (*config.Config, error) { return config.Load(path) }

// releaseLoad hands the garbage of a config load back to the system; call
// it once the loaded config serves (or was refused), so that the time to
// serve it does not include it. A load allocates about 30 times the file's
// size (the YAML parser's node tree above all), garbage once it returns:
// 40 MB for a 10,000-registry file, against 15 MiB that the daemon keeps.
// The runtime would give those pages back only over minutes, so the
// daemon's resident memory would sit at the load's peak (88 MiB there, 55
// after this). It costs one garbage collection, a few milliseconds at that
// size, at start and on a config change only.
func releaseLoad() { debug.FreeOSMemory() }

// Reload reads the config again. A valid new config is swapped in whole;
// requests already running finish on the old one. An invalid one is
// refused and shown in status, and the old one keeps serving.
func (d *Daemon) Reload(reason string) {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	defer releaseLoad()
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
		d.containerd.apply(cfg) // retries a failed hosts.toml write, restores a deleted one
		level := slog.LevelDebug
		if reason == "SIGHUP" { // asked for: say it was done
			level = slog.LevelInfo
		}
		d.log.Log(context.Background(), level, "config unchanged", "reason", reason)
		d.metrics.reloads.WithLabelValues("unchanged").Inc()
		return
	}
	d.opts.Notify("RELOADING=1")
	// Build → swap → retire: loops for new identities start first, the new
	// state goes in whole, and only then do loops no one uses stop, so a
	// request still on the old state never loses its token.
	d.tokens.prepare(cfg)
	d.containerd.apply(cfg)
	d.state.Store(newState(cfg, d.tokens, d.containerd))
	d.tokens.retire(cfg)
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
