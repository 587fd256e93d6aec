package kubesink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/tools/record"
)

// Leader election timings. The spec promises a takeover within the Lease
// duration (15 s) plus one refresh when the leader dies. A standby sees the
// Lease expire only at its next try, which client-go jitters to between 1
// and 2.2 retry periods: with kube-controller-manager's 2 s that is up to
// 19.4 s, so the retry period here is 1 s (up to 17.2 s), for one more
// Lease write a second.
const (
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 1 * time.Second
	DefaultWorkers       = 4
)

// Options configure Run. SecretName, LeaseNamespace, LeaseName and
// Identity are required; the rest have defaults (see withDefaults).
type Options struct {
	// SecretName is the pull Secret's name, fixed for the process (its
	// informer watches that name only).
	SecretName string
	// LeaseNamespace and LeaseName name the coordination.k8s.io Lease.
	LeaseNamespace, LeaseName string
	// Identity is this replica's holder identity in the Lease.
	Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod are leader election's
	// timings (client-go's meaning); zero: the Default values.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// Workers reconcile namespaces concurrently; zero: DefaultWorkers.
	Workers int
	// Listener serves /healthz, /readyz and /metrics; nil: none.
	Listener net.Listener
	// Registry receives the sink's metrics and is served at /metrics;
	// nil: a new one.
	Registry *prometheus.Registry
	// Logger names things by component; nil: discard.
	Logger *slog.Logger
	// Now is the clock that token expiries are compared with; nil: time.Now.
	Now func() time.Time
}

func (o *Options) withDefaults() error {
	if o.SecretName == "" || o.LeaseNamespace == "" || o.LeaseName == "" || o.Identity == "" {
		return errors.New("kubesink: SecretName, LeaseNamespace, LeaseName and Identity are required")
	}
	if o.LeaseDuration == 0 {
		o.LeaseDuration = DefaultLeaseDuration
	}
	if o.RenewDeadline == 0 {
		o.RenewDeadline = DefaultRenewDeadline
	}
	if o.RetryPeriod == 0 {
		o.RetryPeriod = DefaultRetryPeriod
	}
	if o.Workers == 0 {
		o.Workers = DefaultWorkers
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// StartFunc starts the token engine when this replica becomes the leader
// and returns it; the engine stops when ctx is done (leadership ends).
// Standbys run no engine, so a cluster makes one AWS call per identity
// and region per refresh, whatever its number of replicas.
type StartFunc func(ctx context.Context) Source

// ErrLostLease is Run's error when this replica stopped leading while ctx
// was still alive (it could not renew the Lease in time). The process
// should exit so that nothing it still runs writes; its restart stands by.
var ErrLostLease = errors.New("lost the leader Lease")

// Run watches the cluster, stands for election on the Lease, and while it
// leads reconciles every namespace from the Source that start returns. It
// returns nil when ctx is done, ErrLostLease when leadership was lost, or
// the error that kept it from starting.
func Run(ctx context.Context, client kubernetes.Interface, start StartFunc, opts Options) error {
	if err := opts.withDefaults(); err != nil {
		return err
	}
	log := opts.Logger
	m := newMetrics(opts.Registry)
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	defer broadcaster.Shutdown()
	recorder := broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "ocicred-controller", Host: opts.Identity})

	s := newSink(client, opts.SecretName, recorder, m, log.With("component", "kubesink"), opts.Now)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.start(ctx)

	watchdog := leaderelection.NewLeaderHealthzAdaptor(20 * time.Second)
	var ready atomic.Bool
	if opts.Listener != nil {
		srv := &http.Server{Handler: healthMux(opts.Registry, watchdog, &ready), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(opts.Listener) }()
		defer srv.Close()
	}
	if !s.waitSynced(ctx) {
		return ctx.Err()
	}
	ready.Store(true)
	log.Info("caches synced; standing for election", "lease", opts.LeaseNamespace+"/"+opts.LeaseName, "identity", opts.Identity)

	var term leadTerm
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Namespace: opts.LeaseNamespace, Name: opts.LeaseName},
			Client:     client.CoordinationV1(),
			LockConfig: resourcelock.ResourceLockConfig{Identity: opts.Identity, EventRecorder: recorder},
		},
		LeaseDuration:   opts.LeaseDuration,
		RenewDeadline:   opts.RenewDeadline,
		RetryPeriod:     opts.RetryPeriod,
		ReleaseOnCancel: true,
		Name:            opts.LeaseName,
		WatchDog:        watchdog,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) {
				done, ok := term.begin()
				if !ok {
					return
				}
				defer close(done)
				m.leader.Set(1)
				log.Info("leading: writing pull Secrets", "identity", opts.Identity)
				ev := &tokenEvents{rec: recorder, metrics: m}
				if lease, err := client.CoordinationV1().Leases(opts.LeaseNamespace).Get(lctx, opts.LeaseName, metav1.GetOptions{}); err == nil {
					ev.on = lease
				}
				s.lead(lctx, start(lctx), opts.Workers, ev.observe)
			},
			OnStoppedLeading: func() { m.leader.Set(0) },
			OnNewLeader: func(id string) {
				if id != opts.Identity {
					log.Info("standing by", "leader", id)
				}
			},
		},
	})
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	le.Run(ctx)
	if led := term.end(); led && ctx.Err() == nil {
		return ErrLostLease
	}
	return nil
}

// leadTerm lets Run wait for the leading goroutine, which leaderelection
// starts on its own, before it returns: no write outlives Run.
type leadTerm struct {
	mu    sync.Mutex
	ended bool
	done  chan struct{}
}

// begin starts the term; false when Run is already past the election.
func (l *leadTerm) begin() (chan struct{}, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		return nil, false
	}
	l.done = make(chan struct{})
	return l.done, true
}

// end closes the door to begin and waits for a term that began; it
// reports whether one did.
func (l *leadTerm) end() bool {
	l.mu.Lock()
	l.ended = true
	done := l.done
	l.mu.Unlock()
	if done != nil {
		<-done
	}
	return done != nil
}

// healthMux serves /healthz (the process and its Lease renewals are alive),
// /readyz (the informers have synced) and /metrics.
func healthMux(reg *prometheus.Registry, watchdog *leaderelection.HealthzAdaptor, ready *atomic.Bool) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := watchdog.Check(r); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			http.Error(w, "informers not synced yet", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}
