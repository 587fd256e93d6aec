package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	sdaemon "github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sync/errgroup"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/access"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/tokencache"
	"github.com/ocicred/ocicred/internal/tokensource"
)

// Options configure a Daemon. Only ConfigPath is required.
type Options struct {
	ConfigPath string
	// Socket overrides the config file's socket (the --socket flag and
	// OCICRED_SOCKET).
	Socket string
	Logger *slog.Logger
	// Notify tells the service manager about state changes ("READY=1").
	// The default speaks sd_notify when NOTIFY_SOCKET is set.
	Notify func(state string)
	// Debounce is how long the config watcher lets a burst of events settle.
	Debounce time.Duration
	// Fetch gets ECR tokens; the default calls AWS with the real SDK.
	Fetch FetchFunc
	// Clock drives token refreshes; the default is the real one.
	Clock Clock
	// SocketCheck is how often the daemon checks that its socket file is
	// still there, and listens again when it was deleted.
	SocketCheck time.Duration
	// FirstTokenWait is how long a request waits for a registry's first
	// token; default FirstTokenWait.
	FirstTokenWait time.Duration
	// SocketMaxConns and MetricsMaxConns bound the connections the socket
	// and the metrics port serve at once; IdleTimeout closes a keep-alive
	// connection that sends nothing for that long. Defaults: the constants
	// of the same names.
	SocketMaxConns  int
	MetricsMaxConns int
	IdleTimeout     time.Duration
	// StateDir keeps ECR tokens across restarts (files 0600 in a 0700
	// folder); empty: tokens live in memory only. `ocicred daemon` passes
	// OCICRED_CACHE_DIR, else /var/lib/ocicred (the unit's StateDirectory).
	StateDir string

	// listening, when set, runs as soon as the socket exists (tests).
	listening func()
}

// ErrConfig marks a config that keeps the daemon from starting (exit 2).
var ErrConfig = errors.New("invalid config")

// Daemon serves credentials. Create it with New, run it with Run.
type Daemon struct {
	opts Options
	log  *slog.Logger

	tokens      *tokenStore
	containerd  *containerdSink
	metrics     *metrics
	metricsAddr atomic.Pointer[string]
	state       atomic.Pointer[state]
	configError atomic.Pointer[string]
	reloadMu    sync.Mutex

	socket  string
	sockGID int // -1: no socket group
}

// New returns a daemon that has not started yet.
func New(opts Options) *Daemon {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Notify == nil {
		opts.Notify = func(s string) { _, _ = sdaemon.SdNotify(false, s) }
	}
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	d := &Daemon{log: opts.Logger, sockGID: -1}
	d.metrics = newMetrics(d)
	if opts.Fetch == nil {
		f := tokensource.NewFetcher(tokensource.Options{OnAWSCall: d.metrics.awsCall, OnFetch: d.metrics.tokenRequest,
			Log: opts.Logger.With("component", "cloud-sdk")})
		opts.Fetch = f.Fetch
	}
	if abs, err := filepath.Abs(opts.ConfigPath); err == nil {
		opts.ConfigPath = abs
	}
	if opts.Debounce == 0 {
		opts.Debounce = config.DefaultDebounce
	}
	if opts.SocketCheck == 0 {
		opts.SocketCheck = 5 * time.Second
	}
	if opts.FirstTokenWait <= 0 {
		opts.FirstTokenWait = FirstTokenWait
	}
	if opts.SocketMaxConns <= 0 {
		opts.SocketMaxConns = SocketMaxConns
	}
	if opts.MetricsMaxConns <= 0 {
		opts.MetricsMaxConns = MetricsMaxConns
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = IdleTimeout
	}
	d.opts = opts
	d.tokens = newTokenStore(opts.Fetch, opts.Clock, opts.Logger.With("component", "refresh"))
	if opts.StateDir != "" {
		d.tokens.cache = tokencache.New(opts.StateDir, opts.Clock.Now)
	}
	d.containerd = newContainerdSink(opts.Logger.With("component", "containerd"), d.tokens)
	d.tokens.onRefresh = func(key tokensource.Key, names []string, tok creds.Token, err error) {
		d.containerd.refreshed(key, err)
		d.metrics.refreshed(names, err)
	}
	return d
}

// Run loads the config, listens, tells the service manager it is ready,
// and serves until ctx is done. A bad config at start is ErrConfig.
func (d *Daemon) Run(ctx context.Context) error {
	// Catch SIGHUP before the socket exists: from then on the service
	// manager may send it, and its default action would kill the daemon
	// (which systemd counts as a clean exit). One that comes while
	// starting is a reload once ready.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	// Watch first: an edit made once the config is read is never missed.
	watcher, err := config.NewWatcher(d.opts.ConfigPath, d.opts.Debounce, d.log.With("component", "watch"))
	if err != nil {
		return fmt.Errorf("watch %s: %w", d.opts.ConfigPath, err)
	}
	cfg, ln, mln, err := d.start()
	if err != nil {
		watcher.Close()
		return err
	}
	defer d.tokens.close()
	srv := &http.Server{
		Handler:           d.routes(),
		ReadHeaderTimeout: HeaderTimeout,
		WriteTimeout:      d.opts.FirstTokenWait + writeSlack,
		IdleTimeout:       d.opts.IdleTimeout,
		ConnContext:       withCaller,
		ErrorLog:          slog.NewLogLogger(d.log.Handler(), slog.LevelDebug),
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(socketListener(ln, d.opts.SocketMaxConns)); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve %s: %w", d.socket, err)
		}
		return nil
	})
	g.Go(func() error { return d.watch(gctx, watcher, hup) })
	g.Go(func() error { d.keepSocket(gctx, srv); return nil })
	if mln != nil {
		addr := mln.Addr().String()
		d.metricsAddr.Store(&addr)
		g.Go(func() error { return d.serveMetrics(gctx, mln) })
	}
	d.log.Info("ocicred daemon ready", "socket", d.socket, "config", cfg.File, "registries", len(cfg.Registries))
	d.opts.Notify("READY=1")
	releaseLoad()

	<-gctx.Done()
	d.opts.Notify("STOPPING=1")
	d.log.Info("ocicred daemon stopping")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	return g.Wait()
}

// start loads the config, opens the socket and starts the first token
// fetches.
func (d *Daemon) start() (cfg *config.Config, api, metrics net.Listener, err error) {
	if cfg, err = d.load(); err != nil {
		return nil, nil, nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	d.socket = firstNonEmpty(d.opts.Socket, cfg.Socket, config.DefaultSocket)
	if cfg.SocketGroup != "" {
		if d.sockGID, err = access.GroupID(cfg.SocketGroup); err != nil {
			return nil, nil, nil, fmt.Errorf("%w: %s: socketGroup: %w", ErrConfig, cfg.File, err)
		}
	}
	// The socket first: a second daemon on the same socket is told so,
	// not that its metrics port is taken (the first daemon holds both).
	if api, err = listen(d.socket, d.sockGID); err != nil {
		return nil, nil, nil, err
	}
	if cfg.Metrics != "" {
		if metrics, err = net.Listen("tcp", cfg.Metrics); err != nil {
			api.Close()
			return nil, nil, nil, fmt.Errorf("metrics: %w; another program listens on it: change metrics: in %s", err, cfg.File)
		}
	}
	if d.opts.listening != nil {
		d.opts.listening()
	}
	d.tokens.sync(cfg) // first fetches start now; answers wait for them
	d.containerd.apply(cfg)
	d.state.Store(newState(cfg, d.tokens, d.containerd))
	return cfg, api, metrics, nil
}

// MetricsAddr is the address the metrics endpoint listens on, once Run
// has started; empty without metrics.
func (d *Daemon) MetricsAddr() string {
	if p := d.metricsAddr.Load(); p != nil {
		return *p
	}
	return ""
}

// watch reloads on config file changes and on SIGHUP until ctx is done.
func (d *Daemon) watch(ctx context.Context, w *config.Watcher, hup <-chan os.Signal) error {
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				d.Reload("SIGHUP")
				d.followFiles(w)
			}
		}
	}()
	d.followFiles(w)
	return w.Run(ctx, func() { d.Reload("file changed"); d.followFiles(w) })
}

// followFiles points the watcher at the files the serving config refers
// to (config.Files), after each reload.
func (d *Daemon) followFiles(w *config.Watcher) { w.SetFiles(d.state.Load().cfg.Files()) }

// Socket is the path the daemon listens on, once Run has started.
func (d *Daemon) Socket() string { return d.socket }

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
