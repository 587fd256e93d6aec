package e2e

import (
	"net"
	"testing"
	"time"
)

// TestPullWithoutDaemon: when the daemon is not reachable the helper works the
// answer out itself (`ocicred get --no-daemon`), so crane and skopeo still
// pull: before any daemon ran, after a clean stop, and after a crash that left
// the socket file behind.
func TestPullWithoutDaemon(t *testing.T) {
	t.Parallel()
	Need(t, needs(registryTools, []string{"crane", "skopeo"})...)
	s := newScenario(t)
	t.Run("never started", func(t *testing.T) {
		s.assertDaemonless(t)
	})
	t.Run("stopped", func(t *testing.T) {
		d := StartDaemon(t, s.Env)
		d.Stop(t)
		assertNoSecret(t, "the daemon log", d.Log(), s.reg.Password)
		s.assertDaemonless(t)
	})
	t.Run("killed, stale socket", func(t *testing.T) {
		d := StartDaemon(t, s.Env)
		d.Kill(t)
		s.assertDaemonless(t)
	})
}

func (s *scenario) assertDaemonless(t *testing.T) {
	t.Helper()
	if conn, err := net.DialTimeout("unix", s.Socket, time.Second); err == nil {
		_ = conn.Close()
		t.Fatalf("something still accepts on %s", s.Socket)
	}
	s.assertHelperAnswers(t)
	t.Run("crane", s.assertCranePulls)
	t.Run("skopeo", s.assertSkopeoPulls)
}
