// Package kubesink keeps image-pull Secrets in a Kubernetes cluster in step
// with ocicred's config and tokens: the Kubernetes half of `ocicred
// controller` (spec, "Kubernetes: ocicred controller").
//
// It is a reconciler. It reads a Source (source.go: a snapshot of the
// config and the last good token of each registry, plus a change
// notification), computes what each namespace's Secret should hold
// (desired.go: pure, no API), and makes the cluster match (reconcile.go),
// one namespace at a time from a rate-limited work queue fed by informers
// on Namespaces, Secrets and ServiceAccounts (sink.go). Only the holder of
// a coordination.k8s.io Lease writes (run.go), which also serves /healthz,
// /readyz and /metrics. It keeps no copy of the tokens.
//
// Read source.go, then desired.go, then reconcile.go.
package kubesink
