package kubesink

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"
)

// tokenEvents turns snapshot changes into Events on the Lease: one Normal
// event per refresh (the registries sharing the new token named together)
// and one Warning per new refresh error. Never one per namespace: a
// refresh costs the API one Event, not a thousand.
type tokenEvents struct {
	rec     record.EventRecorder
	on      runtime.Object // the Lease; nil: log only
	metrics *metrics
	last    *Snapshot
}

func (e *tokenEvents) observe(snap *Snapshot) {
	prev := e.last
	e.last = snap
	if snap == nil {
		return
	}
	refreshed := map[time.Time][]string{}
	for name, tok := range snap.Tokens {
		if prev == nil || prev.Tokens[name].ExpiresAt != tok.ExpiresAt {
			refreshed[tok.ExpiresAt] = append(refreshed[tok.ExpiresAt], name)
		}
	}
	for _, exp := range slices.SortedFunc(maps.Keys(refreshed), time.Time.Compare) {
		names := refreshed[exp]
		slices.Sort(names)
		e.metrics.refreshEvents.WithLabelValues("success").Inc()
		e.event(corev1.EventTypeNormal, ReasonRefreshed, "new token for %s, expires at %s",
			strings.Join(names, ", "), exp.UTC().Format(time.RFC3339))
	}
	failed := map[string][]string{}
	for name, msg := range snap.Errors {
		if prev == nil || prev.Errors[name] != msg {
			failed[msg] = append(failed[msg], name)
		}
	}
	for _, msg := range slices.Sorted(maps.Keys(failed)) {
		names := failed[msg]
		slices.Sort(names)
		e.metrics.refreshEvents.WithLabelValues("failure").Inc()
		e.event(corev1.EventTypeWarning, ReasonRefreshFailed, "token refresh failed for %s (the last good token stays in the Secrets until it expires): %s",
			strings.Join(names, ", "), msg)
	}
}

func (e *tokenEvents) event(typ, reason, format string, args ...any) {
	if e.on != nil {
		e.rec.Event(e.on, typ, reason, fmt.Sprintf(format, args...))
	}
}
