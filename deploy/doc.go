// Package deploy holds what a cluster operator applies for ocicred: the
// Helm chart in chart/ocicred (the controller Deployment, the node
// DaemonSet, least-privilege RBAC, the config Secret) and ocicred.yaml, the
// chart rendered with its defaults for kubectl apply. The Go files are the
// tests that lint and render the chart, apply it to a real API server with
// server-side dry-run, and run the controller with exactly these roles.
package deploy
