package daemon

import (
	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/localapi"
)

// state is everything an answer is read from. It is built whole from one
// config and never changed after; a reload builds the next one and swaps
// the pointer, so a request sees one config from start to end.
type state struct {
	cfg         *config.Config
	fingerprint [32]byte
	tokens      *tokenStore // shared by every state: loops outlive reloads
	containerd  *containerdSink
}

func newState(cfg *config.Config, tokens *tokenStore, containerd *containerdSink) *state {
	return &state{cfg: cfg, fingerprint: cfg.Fingerprint(), tokens: tokens, containerd: containerd}
}

// status reports every registry's state.
func (s *state) status() []localapi.RegistryStatus {
	out := make([]localapi.RegistryStatus, 0, len(s.cfg.Registries))
	for _, r := range s.cfg.Registries {
		rs := localapi.RegistryStatus{Name: r.Name, Type: r.Type, Endpoint: r.Endpoint}
		switch {
		case r.Type == config.TypeBasic:
			rs.State = localapi.StateStatic
		case !r.IsProtected():
			rs.State = localapi.StateAnonymous
		default:
			s.tokens.status(r, &rs)
		}
		if (r.Type == config.TypeBasic || r.IsProtected()) && !r.ForNode() {
			rs.Note = config.NodeWideNote
		}
		if r.IsProtected() && !r.ForHostsTOML() {
			rs.Note = joinNote(rs.Note, config.HostsTOMLNote)
		}
		s.containerd.status(r, &rs)
		out = append(out, rs)
	}
	return out
}

// joinNote adds note to what a registry's status note says already.
func joinNote(have, note string) string {
	if have == "" {
		return note
	}
	return have + "; " + note
}
