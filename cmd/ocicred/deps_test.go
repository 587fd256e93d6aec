package main

import (
	"os/exec"
	"strings"
	"testing"
)

// What ships links no test support: nothing under test/ (the AWS stand-in,
// the end-to-end and Kubernetes harnesses, the benchmarks, testenv) or
// hack/ (the demo, the man page generator) (issue 13).
func TestLinksNoTestSupport(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps printed too little: %q", out)
	}
	const mod = "github.com/ocicred/ocicred"
	for _, dep := range deps {
		if dep == "testing" {
			t.Errorf("ocicred links the testing package")
		}
		// Test support lives under test/, dev programs under hack/.
		if strings.HasPrefix(dep, mod+"/test/") || strings.HasPrefix(dep, mod+"/hack/") {
			t.Errorf("ocicred links %s, which is test support", dep)
		}
		// containerd's own module only reads ocicred's hosts.toml files
		// in internal/containerdhosts' tests.
		if strings.HasPrefix(dep, "github.com/containerd/") {
			t.Errorf("ocicred links %s, a test-only dependency", dep)
		}
	}
}
