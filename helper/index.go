package helper

import (
	"github.com/ocicred/ocicred/internal/cachedir"
	"github.com/ocicred/ocicred/internal/defaults"
)

// fromIndex answers get for host (hostkey.Key's form) from the token
// cache's index of daemon-less answers, without running `ocicred get`:
// only when `ocicred get` would give the same answer now (cachedir.Lookup
// says what that takes). The error says why not; the caller then runs
// `ocicred get`, which says what needs fixing.
func (h *Helper) fromIndex(host string) (cachedir.Hit, error) {
	dir := h.opts.CacheDir
	if dir == "" {
		d, err := cachedir.Dir()
		if err != nil {
			return cachedir.Hit{}, err
		}
		dir = d
	}
	q := cachedir.Query{Host: host, ConfigPath: h.opts.ConfigPath, Socket: h.opts.Socket,
		LookupEnv: h.opts.LookupEnv, Now: h.opts.Now()}
	// `ocicred get` inherits this environment: OCICRED_SOCKET, when set,
	// is the socket it asks, whatever the config names.
	if s, ok := q.LookupEnv(defaults.EnvSocket); ok && s != "" {
		if s != h.opts.Socket {
			return cachedir.Hit{}, &cachedir.MissError{Reason: "OCICRED_SOCKET names another socket than the one found down"}
		}
		q.SocketFromEnv = true
	}
	return cachedir.Lookup(dir, q)
}
