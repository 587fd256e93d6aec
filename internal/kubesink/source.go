package kubesink

import (
	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/creds"
)

// Source is the token engine as the sink sees it. The daemon package adapts
// its token store to it (daemon.RunController); tests hand-write one.
type Source interface {
	// Snapshot is the current config and tokens. The sink only reads it;
	// the Source never changes a Snapshot it has handed out.
	Snapshot() *Snapshot
	// Changed receives a value when Snapshot may differ from the one last
	// read: a token refreshed or failed, the config changed. Sends do not
	// block and coalesce (a buffer of one: the latest wins), so a reader
	// that falls behind reads the newest Snapshot once.
	Changed() <-chan struct{}
}

// Snapshot is one consistent view of what the Secrets are made from.
type Snapshot struct {
	// Config is the loaded config, secrets resolved: the kubernetes section,
	// and the registries (Basic passwords come from it).
	Config *config.Config
	// Tokens holds the last good token of each protected ECR registry, by
	// registry name, expired or not: the sink writes a token only until its
	// ExpiresAt. A registry without one has had no good token yet.
	Tokens map[string]creds.Token
	// Errors holds the last refresh error of a protected registry by name,
	// when its last refresh failed; its text names no secret.
	Errors map[string]string
}
