package kubesink

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
)

// sink watches the cluster and reconciles one namespace per queue item.
// Its informers run on every replica (a standby is ready to lead at once);
// its workers run only on the leader, so only the leader writes.
type sink struct {
	client     kubernetes.Interface
	secretName string // fixed for the process: the Secret informer watches only this name
	log        *slog.Logger
	now        func() time.Time
	metrics    *metrics
	recorder   record.EventRecorder

	factory    informers.SharedInformerFactory // Namespaces, ServiceAccounts
	secretsF   informers.SharedInformerFactory // Secrets named secretName only
	namespaces corelisters.NamespaceLister
	secrets    corelisters.SecretLister
	accounts   corelisters.ServiceAccountLister
	synced     []cache.InformerSynced

	queue workqueue.TypedRateLimitingInterface[string]
	snap  atomic.Pointer[Snapshot] // nil until this replica leads

	conflicts conflictMemo
}

func newSink(client kubernetes.Interface, secretName string, recorder record.EventRecorder, m *metrics, log *slog.Logger, now func() time.Time) *sink {
	s := &sink{client: client, secretName: secretName, log: log, now: now, metrics: m, recorder: recorder}
	s.factory = informers.NewSharedInformerFactory(client, 0)
	s.secretsF = informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("metadata.name", secretName).String()
	}))
	nsInf := s.factory.Core().V1().Namespaces()
	saInf := s.factory.Core().V1().ServiceAccounts()
	secInf := s.secretsF.Core().V1().Secrets()
	s.namespaces, s.accounts, s.secrets = nsInf.Lister(), saInf.Lister(), secInf.Lister()
	s.queue = workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "ocicred"})

	byName := func(obj any) { // a Namespace's own key is its name
		if m, err := metaOf(obj); err == nil {
			s.queue.Add(m.GetName())
		}
	}
	byNamespace := func(obj any) {
		if m, err := metaOf(obj); err == nil {
			s.queue.Add(m.GetNamespace())
		}
	}
	_, _ = nsInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    byName,
		UpdateFunc: func(_, obj any) { byName(obj) },
		DeleteFunc: byName,
	})
	_, _ = secInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    byNamespace,
		UpdateFunc: func(_, obj any) { byNamespace(obj) },
		DeleteFunc: byNamespace,
	})
	_, _ = saInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { s.accountChanged(obj) },
		UpdateFunc: func(_, obj any) { s.accountChanged(obj) },
	})
	s.synced = []cache.InformerSynced{nsInf.Informer().HasSynced, saInf.Informer().HasSynced, secInf.Informer().HasSynced}
	return s
}

// metaOf is obj's metadata, also for the tombstone a missed delete leaves.
func metaOf(obj any) (metav1.Object, error) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	return meta.Accessor(obj)
}

// accountChanged queues the namespace of a ServiceAccount the settings name.
func (s *sink) accountChanged(obj any) {
	sa, ok := obj.(*corev1.ServiceAccount)
	if !ok {
		return
	}
	if snap := s.snap.Load(); snap != nil && slices.Contains(snap.Config.KubernetesSettings().ServiceAccounts, sa.Name) {
		s.queue.Add(sa.Namespace)
	}
}

// start starts the informers; they stop when ctx is done.
func (s *sink) start(ctx context.Context) {
	s.factory.Start(ctx.Done())
	s.secretsF.Start(ctx.Done())
}

// waitSynced waits until every informer has its first full list.
func (s *sink) waitSynced(ctx context.Context) bool {
	return cache.WaitForCacheSync(ctx.Done(), s.synced...)
}

// lead runs the workers and follows src until ctx is done: the leader's
// part. Every change of the snapshot queues every namespace; reconciling
// one that needs no write costs no API call.
func (s *sink) lead(ctx context.Context, src Source, workers int, observe func(*Snapshot)) {
	var wg sync.WaitGroup
	defer wg.Wait() // no write outlives leadership
	defer s.queue.ShutDown()
	publish := func() {
		snap := src.Snapshot()
		observe(snap)
		s.publish(snap)
	}
	publish()
	for range workers {
		wg.Go(func() { s.work(ctx) })
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-src.Changed():
			publish()
		}
	}
}

// publish makes snap the one reconciles read, and queues every namespace.
func (s *sink) publish(snap *Snapshot) {
	if snap == nil || snap.Config == nil {
		return
	}
	if got := snap.Config.KubernetesSettings().SecretName; got != s.secretName {
		s.log.Warn("kubernetes.secretName changes take effect at the next restart", "running", s.secretName, "config", got)
	}
	s.snap.Store(snap)
	all, err := s.namespaces.List(labels.Everything())
	if err != nil {
		return
	}
	for _, ns := range all {
		s.queue.Add(ns.Name)
	}
}

// work reconciles queued namespaces until the queue shuts down. A failed
// reconcile is retried with the queue's per-item exponential backoff.
func (s *sink) work(ctx context.Context) {
	for {
		ns, quit := s.queue.Get()
		if quit || ctx.Err() != nil {
			return
		}
		retryAfter, err := s.reconcile(ctx, ns)
		switch {
		case err != nil:
			s.metrics.reconcileErrors.Inc()
			level := slog.LevelWarn
			if apierrors.IsConflict(err) {
				level = slog.LevelDebug // the informer had not seen our own last write yet
			}
			s.log.Log(ctx, level, "reconcile failed; retrying", "namespace", ns, "err", err, "retries", s.queue.NumRequeues(ns))
			s.queue.AddRateLimited(ns)
		default:
			s.queue.Forget(ns)
			if retryAfter > 0 {
				s.queue.AddAfter(ns, retryAfter)
			}
		}
		s.queue.Done(ns)
	}
}
