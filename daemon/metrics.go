package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/net/netutil"

	"github.com/ocicred/ocicred/internal/buildinfo"
	"github.com/ocicred/ocicred/internal/localapi"
	"github.com/ocicred/ocicred/internal/tokensource"
)

// metrics are the daemon's Prometheus series. Every label has a bounded
// set of values: registry names come from the config, reasons are AWS
// error codes, clients and results are fixed words. No secret is a label.
type metrics struct {
	reg       *prometheus.Registry
	refreshes *prometheus.CounterVec
	awsCalls  *prometheus.CounterVec
	// tokenRequests counts token requests to every cloud.
	tokenRequests *prometheus.CounterVec
	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	reloads       *prometheus.CounterVec
}

func newMetrics(d *Daemon) *metrics {
	m := &metrics{
		reg:           prometheus.NewRegistry(),
		refreshes:     newRefreshCounter(),
		awsCalls:      newAWSCallCounter(),
		tokenRequests: newTokenRequestCounter(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ocicred_requests_total",
			Help: "Credential requests by client (helper, kubelet, cli, other) and result."}, []string{"client", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ocicred_request_duration_seconds",
			Help: "Time to answer a credential request, by client.", Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10)},
			[]string{"client"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ocicred_config_reloads_total",
			Help: "Config reloads by result (applied, unchanged, refused)."}, []string{"result"}),
	}
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ocicred_build_info",
		Help: "Version and commit of the running daemon."}, []string{"version", "commit"})
	info.WithLabelValues(buildinfo.Version, buildinfo.Commit).Set(1)
	m.reg.MustRegister(m.refreshes, m.awsCalls, m.tokenRequests, m.requests, m.latency, m.reloads, info,
		&expiryCollector{d: d}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// newRefreshCounter and newAWSCallCounter are the token engine's series,
// which the daemon and the controller both serve.
func newRefreshCounter() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ocicred_token_refreshes_total",
		Help: "Token refreshes (ECR, GAR, ACR) by registry, result (success, failure) and reason (the cloud's error code)."},
		[]string{"registry", "result", "reason"})
}

// newTokenRequestCounter counts token requests by registry type (ecr,
// gar, acr) and result: AWS's own calls are in ocicred_aws_calls_total,
// this one covers every cloud alike.
func newTokenRequestCounter() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ocicred_token_requests_total",
		Help: "Token requests to a cloud by registry type (ecr, gar, acr) and result (ok, error)."}, []string{"type", "result"})
}

func newAWSCallCounter() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ocicred_aws_calls_total",
		Help: "AWS API calls by API and result (ok, error)."}, []string{"api", "result"})
}

// refreshed counts a refresh for every registry sharing the identity.
func (m *metrics) refreshed(names []string, err error) {
	result, reason := "success", ""
	if err != nil {
		result, reason = "failure", errorReason(err)
	}
	for _, name := range names {
		m.refreshes.WithLabelValues(name, result, reason).Inc()
	}
}

// errorReason is the cloud's error code, "NoCredentials", "timeout",
// "clock_skew" or "other" (tokensource.Reason).
func errorReason(err error) string { return tokensource.Reason(err) }

// tokenRequest counts one token request to a cloud, by registry type.
func (m *metrics) tokenRequest(typ string, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.tokenRequests.WithLabelValues(typ, result).Inc()
}

func (m *metrics) awsCall(api string, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.awsCalls.WithLabelValues(api, result).Inc()
}

// request counts one credential request.
func (m *metrics) request(client, result string, took time.Duration) {
	switch client {
	case localapi.ClientHelper, localapi.ClientKubelet, localapi.ClientCLI:
	default:
		client = "other"
	}
	m.requests.WithLabelValues(client, result).Inc()
	m.latency.WithLabelValues(client).Observe(took.Seconds())
}

// expiryCollector reports the seconds until each registry's token expires,
// read from the current state at scrape time.
type expiryCollector struct{ d *Daemon }

var expiryDesc = prometheus.NewDesc("ocicred_token_expiry_seconds",
	"Seconds until the registry's current token (ECR, GAR or ACR) expires (negative: expired).", []string{"registry"}, nil)

func (c *expiryCollector) Describe(ch chan<- *prometheus.Desc) { ch <- expiryDesc }

func (c *expiryCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.d.state.Load()
	if st == nil {
		return
	}
	now := c.d.opts.Clock.Now()
	for _, r := range st.cfg.Registries {
		if !r.IsProtected() {
			continue
		}
		if tok, ok := st.tokens.lastToken(r); ok {
			ch <- prometheus.MustNewConstMetric(expiryDesc, prometheus.GaugeValue, tok.ExpiresAt.Sub(now).Seconds(), r.Name)
		}
	}
}

// serveMetrics serves /metrics on addr until ctx is done.
func (d *Daemon) serveMetrics(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(d.metrics.reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: HeaderTimeout, WriteTimeout: WriteTimeout, IdleTimeout: d.opts.IdleTimeout}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(netutil.LimitListener(ln, d.opts.MetricsMaxConns)); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}
