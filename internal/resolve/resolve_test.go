package resolve

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/localapi"
)

// Resolve asks the daemon, else answers from the config, and says why in
// one line; a socket the helper found silent is not asked again, and the
// kubelet gets no registry that is not for the whole node.
func TestResolve(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(`registries:
  - {name: open, type: basic, endpoint: open.example, username: alice, password: pw-open}
  - {name: team, type: basic, endpoint: team.example, username: bob, password: pw-team, allow: [root]}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "none.sock") // nothing listens
	for _, tt := range []struct {
		name, host string
		opts       Options
		noDaemon   bool
		user       string // "" for creds.ErrNotFound
		reason     string
	}{
		{"no daemon", "open.example", Options{Socket: sock}, false, "alice",
			" at " + sock + "; answered from " + cfg + ": registry open: credentials worked out without the daemon"},
		{"--no-daemon", "open.example", Options{Socket: sock}, true, "alice",
			"registry open: credentials worked out without the daemon"},
		{"silent socket", "open.example", Options{Socket: sock, SkipSocket: sock}, false, "alice",
			"the daemon at " + sock + " gave no answer; answered from " + cfg + ": registry open"},
		{"not managed", "other.example", Options{}, true, "",
			"no registry in " + cfg + " has the endpoint other.example"},
		{"kubelet", "team.example", Options{ClientName: localapi.ClientKubelet}, true, "",
			"registry team: "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.ConfigPath = cfg
			ans, err := Resolve(context.Background(), tt.opts, tt.host, tt.noDaemon)
			switch {
			case tt.user == "" && !errors.Is(err, creds.ErrNotFound):
				t.Errorf("error %v, want creds.ErrNotFound", err)
			case tt.user != "" && (err != nil || ans.User != tt.user):
				t.Errorf("answer for %s: user %q, error %v; want %s", tt.host, ans.User, err, tt.user)
			}
			if !strings.Contains(ans.Reason, tt.reason) {
				t.Errorf("reason %q, want it to hold %q", ans.Reason, tt.reason)
			}
		})
	}
	if _, err := Resolve(context.Background(), Options{ConfigPath: cfg}, "bad host/", true); err == nil || errors.Is(err, creds.ErrNotFound) {
		t.Errorf("an invalid host: %v, want the address's error", err)
	}
}
