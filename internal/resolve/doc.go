// Package resolve answers "which credentials for this host?" the way the
// helper does: the daemon, else the config file read with this user's
// rights (the daemon-less path). `ocicred get`, `ocicred check`, the
// kubelet plugin and, through `ocicred get --no-daemon`, the helper's
// fallback all answer through Resolve.
//
// Read resolve.go first; tokens.go is the daemon-less token source (the
// token cache, then the cloud), the one file that calls a cloud's token
// fetcher.
package resolve
