package config

import (
	"os/exec"
	"strings"
	"testing"
)

// The config file format sits below the wire: config links neither the
// local API nor the daemon (issue 13).
func TestConfigLinksNoWire(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	if !strings.Contains(string(out), "github.com/ocicred/ocicred/internal/defaults") {
		t.Fatalf("go list -deps does not list what config links: %q", out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "github.com/ocicred/ocicred/internal/localapi" || dep == "github.com/ocicred/ocicred/daemon" || dep == "net/http" {
			t.Errorf("config links %s", dep)
		}
	}
}
