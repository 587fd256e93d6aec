// Package daemon is ocicred's long-running part: it loads and watches the
// config (reload.go), keeps the state every answer is read from (state.go),
// and serves the local API on a unix socket to the callers it admits
// (socket.go, api.go). Its sinks follow the token engine (tokens.go):
// containerd.go keeps containerd's hosts.toml files (the format is
// internal/containerdhosts'), controller.go feeds the Kubernetes sink.
// Read daemon.go first.
package daemon
