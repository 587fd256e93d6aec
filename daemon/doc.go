// Package daemon is ocicred's long-running part: it loads and watches the
// config (reload.go), keeps the state every answer is read from (state.go),
// and serves the local API on a unix socket to the callers it admits
// (socket.go, api.go). Read daemon.go first.
package daemon
