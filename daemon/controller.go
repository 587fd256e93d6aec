package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"k8s.io/client-go/kubernetes"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/buildinfo"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/kubesink"
	"github.com/ocicred/ocicred/internal/tokensource"
)

// ControllerOptions configure RunController. ConfigPath, Client and
// Identity are required.
type ControllerOptions struct {
	ConfigPath string
	// Client talks to the cluster (in-cluster config or a kubeconfig).
	Client kubernetes.Interface
	// Identity is this replica's holder identity in the Lease (spec:
	// POD_NAME or the host name, plus a random suffix).
	Identity string
	// Listener serves /healthz, /readyz and /metrics; nil: none.
	Listener net.Listener
	Logger   *slog.Logger
	// Fetch gets ECR tokens; the default calls AWS with the real SDK.
	Fetch FetchFunc
	// Debounce is how long the config watcher lets a burst of events settle.
	Debounce time.Duration
	// LeaseDuration, RenewDeadline and RetryPeriod: leader election's
	// timings; zero: kubesink's defaults (15 s, 10 s, 2 s).
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// Workers reconcile namespaces concurrently; zero: kubesink's default.
	Workers int
}

// RunController runs `ocicred controller`: the daemon's token engine, with
// the Kubernetes sink instead of the socket. Every replica watches the
// cluster; the one holding the Lease runs the engine (one refresh loop per
// identity and region) and writes. A bad config at start is ErrConfig; it
// returns kubesink.ErrLostLease when this replica stops leading, nil when
// ctx is done.
func RunController(ctx context.Context, opts ControllerOptions) error {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Debounce == 0 {
		opts.Debounce = config.DefaultDebounce
	}
	cfg, err := loadChecked(opts.ConfigPath)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	k := cfg.KubernetesSettings()
	reg := prometheus.NewRegistry()
	refreshes, awsCalls, tokenRequests := newRefreshCounter(), newAWSCallCounter(), newTokenRequestCounter()
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ocicred_build_info",
		Help: "Version and commit of the running program."}, []string{"version", "commit"})
	info.WithLabelValues(buildinfo.Version, buildinfo.Commit).Set(1)
	reg.MustRegister(refreshes, awsCalls, tokenRequests, info, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &metrics{reg: reg, refreshes: refreshes, awsCalls: awsCalls, tokenRequests: tokenRequests}
	if opts.Fetch == nil {
		f := tokensource.NewFetcher(tokensource.Options{OnAWSCall: m.awsCall, OnFetch: m.tokenRequest,
			Log: opts.Logger.With("component", "cloud-sdk")})
		opts.Fetch = f.Fetch
	}
	start := func(lctx context.Context) kubesink.Source {
		e := newEngine(opts.Fetch, m, opts.Logger)
		e.start(lctx, opts.ConfigPath, opts.Debounce, cfg)
		return e
	}
	return kubesink.Run(ctx, opts.Client, start, kubesink.Options{
		SecretName:     k.SecretName,
		LeaseNamespace: k.LeaderElection.Namespace,
		LeaseName:      k.LeaderElection.Name,
		Identity:       opts.Identity,
		LeaseDuration:  opts.LeaseDuration,
		RenewDeadline:  opts.RenewDeadline,
		RetryPeriod:    opts.RetryPeriod,
		Workers:        opts.Workers,
		Listener:       opts.Listener,
		Registry:       reg,
		Logger:         opts.Logger,
	})
}

// engine adapts the token store to kubesink.Source: the config in force,
// the last good token and last error of each protected registry, and a
// notification on every refresh and reload.
type engine struct {
	tokens  *tokenStore
	log     *slog.Logger
	cfg     atomic.Pointer[config.Config]
	changed chan struct{}
}

func newEngine(fetch FetchFunc, m *metrics, log *slog.Logger) *engine {
	e := &engine{tokens: newTokenStore(fetch, realClock{}, log.With("component", "refresh")),
		log: log, changed: make(chan struct{}, 1)}
	e.tokens.onRefresh = func(_ tokensource.Key, names []string, _ creds.Token, err error) {
		m.refreshed(names, err)
		e.notify()
	}
	return e
}

// start reads the config again (it may have changed while this replica
// stood by; fallback is the one read at start), starts the token loops,
// and follows the file until ctx is done, when the loops stop.
func (e *engine) start(ctx context.Context, path string, debounce time.Duration, fallback *config.Config) {
	w, werr := config.NewWatcher(path, debounce, e.log.With("component", "watch"))
	cfg, err := loadChecked(path)
	if err != nil {
		e.log.Error("config refused; using the one read at start", "err", err)
		cfg = fallback
	}
	e.apply(cfg)
	go func() {
		defer e.tokens.close()
		if werr != nil {
			e.log.Error("cannot watch the config; changes need a restart", "err", werr)
			<-ctx.Done()
			return
		}
		_ = w.Run(ctx, func() {
			cfg, err := loadChecked(path)
			if err != nil {
				e.log.Error("config refused; still using the previous one", "err", err)
				return
			}
			if cfg.Fingerprint() == e.cfg.Load().Fingerprint() {
				return
			}
			e.apply(cfg)
			e.log.Info("config reloaded", "registries", len(cfg.Registries))
		})
	}()
}

// apply starts and stops loops for cfg's identities, then publishes cfg.
func (e *engine) apply(cfg *config.Config) {
	defer releaseLoad()
	e.tokens.sync(cfg)
	e.cfg.Store(cfg)
	e.notify()
}

func (e *engine) notify() {
	select {
	case e.changed <- struct{}{}:
	default:
	}
}

// Changed implements kubesink.Source.
func (e *engine) Changed() <-chan struct{} { return e.changed }

// Snapshot implements kubesink.Source.
func (e *engine) Snapshot() *kubesink.Snapshot {
	cfg, ids := e.cfg.Load(), e.tokens.snapshot().ids
	snap := &kubesink.Snapshot{Config: cfg, Tokens: map[string]creds.Token{}, Errors: map[string]string{}}
	for _, r := range cfg.Registries {
		if !r.IsProtected() {
			continue
		}
		st, ok := ids[e.tokens.keyOf(r)]
		if !ok {
			continue
		}
		if !st.tok.ExpiresAt.IsZero() {
			snap.Tokens[r.Name] = st.tok
		}
		if st.lastErr != nil {
			snap.Errors[r.Name] = st.lastErr.Error()
		}
	}
	return snap
}
