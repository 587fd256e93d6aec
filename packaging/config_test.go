package packaging

import (
	"os"
	"testing"

	"github.com/ocicred/ocicred/config"
)

// The config the package installs must be valid as shipped.
func TestShippedConfigIsValid(t *testing.T) {
	data, err := os.ReadFile("config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse(data, "packaging/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.SocketGroup != "ocicred" || c.HasInlineSecrets() {
		t.Errorf("shipped config: socketGroup %q, inline secrets %v", c.SocketGroup, c.HasInlineSecrets())
	}
}
