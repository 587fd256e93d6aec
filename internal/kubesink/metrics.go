package kubesink

import "github.com/prometheus/client_golang/prometheus"

// metrics are the sink's Prometheus series. Labels take fixed words only:
// no namespace, Secret or registry name, so that a large cluster does not
// make a large scrape.
type metrics struct {
	writes          *prometheus.CounterVec
	accountPatches  *prometheus.CounterVec
	conflicts       prometheus.Counter
	reconcileErrors prometheus.Counter
	leader          prometheus.Gauge
	refreshEvents   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		writes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ocicred_kube_secret_writes_total",
			Help: "Pull Secret writes by verb (create, update, delete) and result (ok, error)."}, []string{"verb", "result"}),
		accountPatches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ocicred_kube_serviceaccount_patches_total",
			Help: "ServiceAccount imagePullSecrets patches by result (ok, error)."}, []string{"result"}),
		conflicts: prometheus.NewCounter(prometheus.CounterOpts{Name: "ocicred_kube_conflicts_total",
			Help: "Secrets of the pull Secret's name that ocicred did not create and left alone (each version counted once)."}),
		reconcileErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "ocicred_kube_reconcile_errors_total",
			Help: "Namespace reconciles that failed and were queued again with backoff."}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ocicred_kube_leader",
			Help: "1 while this replica holds the Lease and writes, else 0."}),
		refreshEvents: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ocicred_kube_token_events_total",
			Help: "Token refreshes seen by the sink, by result (success, failure)."}, []string{"result"}),
	}
	reg.MustRegister(m.writes, m.accountPatches, m.conflicts, m.reconcileErrors, m.leader, m.refreshEvents)
	return m
}

func (m *metrics) write(verb string, err error) { m.writes.WithLabelValues(verb, result(err)).Inc() }

func (m *metrics) accountPatch(err error) { m.accountPatches.WithLabelValues(result(err)).Inc() }

func result(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}
