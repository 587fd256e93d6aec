package daemon

import (
	"iter"
	"time"

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

// statuses yields every registry's state, in the config's order, one at a
// time: the status answer is written as it goes (writeStatus), so that a
// config of 10,000 registries never holds them all at once.
func (s *state) statuses() iter.Seq[localapi.RegistryStatus] {
	return func(yield func(localapi.RegistryStatus) bool) {
		snap, now := s.tokens.snapshot(), s.tokens.clock.Now()
		for _, r := range s.cfg.Registries {
			rs := localapi.RegistryStatus{Name: r.Name, Type: r.Type, Endpoint: r.Endpoint}
			switch {
			case r.Type == config.TypeBasic:
				rs.State = localapi.StateStatic
			case !r.IsProtected():
				rs.State = localapi.StateAnonymous
			default:
				tokenStatus(snap.ids[s.tokens.keyOf(r)], now, &rs)
			}
			if (r.Type == config.TypeBasic || r.IsProtected()) && !r.ForNode() {
				rs.Note = config.NodeWideNote
			}
			if r.IsProtected() && !r.ForHostsTOML() {
				rs.Note = joinNote(rs.Note, config.HostsTOMLNote)
			}
			s.containerd.status(r, &rs)
			if !yield(rs) {
				return
			}
		}
	}
}

// joinNote adds note to what a registry's status note says already.
func joinNote(have, note string) string {
	if have == "" {
		return note
	}
	return have + "; " + note
}

// tokenStatus fills the token fields of a token registry's status from
// its identity's published state (nil: no fetch has finished yet). The
// wire's states and time format are the local API's (spec, "ocicred
// status --json").
func tokenStatus(st *identityState, now time.Time, rs *localapi.RegistryStatus) {
	if st == nil {
		rs.State = localapi.StatePending
		return
	}
	rs.ExpiresAt, rs.RefreshedAt, rs.NextRefreshAt = rfc3339(st.tok.ExpiresAt), rfc3339(st.refreshedAt), rfc3339(st.nextAt)
	rs.ClockSkewSeconds = int64(st.tok.Skew / time.Second)
	rs.LastError = ""
	if st.lastErr != nil {
		rs.LastError = st.lastErr.Error()
	}
	switch {
	case !st.tok.ExpiresAt.IsZero() && now.Before(st.tok.ExpiresAt):
		rs.State = localapi.StateReady
	case st.lastErr != nil:
		rs.State = localapi.StateError
	default:
		rs.State = localapi.StatePending
	}
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
