package localreg

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"testing"
)

const testUser, testPassword = "alice", "localreg-test-password"

func TestInProcess(t *testing.T) {
	reg, err := StartInProcess(testUser, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := reg.Close(); err != nil {
			t.Error(err)
		}
	})
	exercise(t, reg)
}

func TestDistribution(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the distribution registry: skipped with -short")
	}
	for _, tool := range []string{"docker-registry", "htpasswd"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed (.ci/install-tools installs it)", tool)
			}
			t.Skipf("%s is not installed: run .ci/install-tools", tool)
		}
	}
	reg, err := StartDistribution(t.Context(), Distribution{Dir: t.TempDir(), User: testUser, Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := reg.Close(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("registry output:\n%s", reg.Output())
		}
	})
	exercise(t, reg)
}

// exercise pushes with the right credentials, pulls it back, and checks that
// anonymous and wrong credentials get 401.
func exercise(t *testing.T, reg *Registry) {
	ctx := context.Background()
	img, err := TestImage("hello\n")
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{BaseURL: reg.URL, Cred: Credential{testUser, testPassword}}
	digest, err := c.Push(ctx, "demo/hello", "v1", img)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Pull(ctx, "demo/hello", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if got != digest {
		t.Errorf("pulled %s, pushed %s", got, digest)
	}
	for name, cred := range map[string]Credential{"anonymous": {}, "wrong password": {testUser, "nope"}} {
		c := &Client{BaseURL: reg.URL, Cred: cred}
		_, err := c.FetchManifest(ctx, "demo/hello", "v1")
		var se *StatusError
		if !errors.As(err, &se) || se.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: FetchManifest error = %v, want a 401 StatusError", name, err)
		}
	}
}
