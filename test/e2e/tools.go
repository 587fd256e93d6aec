package e2e

import (
	"testing"

	"github.com/ocicred/ocicred/test/testenv"
)

// Need is the first call of every end-to-end test: before the test does
// any work it decides whether the machine has what the test will use, so a
// missing tool never cuts a test short halfway (a skip after the first
// pull would hide the refresh the test exists for). It skips under
// `go test -short`, and skips t (fails it under CI=true, see testenv) when
// one of tools is missing. Tests that need root call RequireRoot right
// after it.
//
// The helpers that run a tool later (CranePull, StartContainerd, …) find
// it with tool, which fails rather than skips: a tool a test did not ask
// for here is a bug in that test.
func Need(t testing.TB, tools ...string) {
	t.Helper()
	testenv.SkipShort(t, "end-to-end")
	for _, name := range tools {
		testenv.Tool(t, name)
	}
}

// The tools of the stages most tests share, for Need.
var (
	// registryTools run the registry of newScenario and StartRegistry.
	registryTools = []string{"docker-registry", "htpasswd"}
	// ecrTools run the open registry behind StartECR's front.
	ecrTools = []string{"docker-registry"}
	// containerdTools run StartContainerd and its ctr and crictl pulls
	// (as root: see RequireRoot).
	containerdTools = []string{"containerd", "ctr", "crictl"}
	// userTools make and remove the users of the access tests.
	userTools = []string{"groupadd", "useradd", "groupdel", "userdel"}
)

// needs joins tool lists for Need.
func needs(lists ...[]string) []string {
	var all []string
	for _, l := range lists {
		all = append(all, l...)
	}
	return all
}

// InCI reports whether this is a CI run, where a missing tool is a failure.
func InCI() bool { return testenv.InCI() }

// Tool returns the absolute path of an external program the suite drives
// (testenv.Tool: PATH, .tools/bin, GOPATH/bin), skipping t (failing it in
// CI) when it is missing. Call it only at the top of a test, as Need does.
func Tool(t testing.TB, name string) string {
	t.Helper()
	return testenv.Tool(t, name)
}

// tool is how a helper finds a program in the middle of a test: the test
// asked for it with Need, so a missing one is a failure, never a skip.
func tool(t testing.TB, name string) string {
	t.Helper()
	p := testenv.LookTool(name)
	if p == "" {
		t.Fatalf("%s is not installed, and this test did not ask for it with Need at its top "+
			"(so it would have skipped before doing any work)", name)
	}
	return p
}

// mustBeRoot fails t when it does not run as root: a helper that needs root
// in the middle of a test counts on RequireRoot at its top.
func mustBeRoot(t testing.TB, why string) {
	t.Helper()
	if !isRoot() {
		t.Fatalf("%s needs root, and this test did not ask for it with RequireRoot at its top", why)
	}
}
