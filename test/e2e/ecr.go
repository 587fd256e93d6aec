package e2e

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/ocicred/ocicred/test/awsfake"
	"github.com/ocicred/ocicred/test/e2e/localreg"
)

// ECR is a stand-in for an Amazon ECR registry on 127.0.0.1. awsfake answers
// GetAuthorizationToken; its registry front, served here by an httptest
// server, lets through only "Basic AWS:<token>" for tokens that fake issued
// for Registry (its account's principals, in its region) and that have not
// expired, to an upstream distribution registry with no auth of its own.
type ECR struct {
	Fake *awsfake.Server
	// Registry is the registry the front stands for: a config entry for
	// Host must name its Region, and credentials of its Account.
	Registry awsfake.Registry
	// Upstream is the open registry behind the front: the test pushes there
	// directly, and it can stand for an unprotected ECR registry.
	Upstream *localreg.Registry
	// Host is the front's host:port, what clients pull from.
	Host string
}

// StartECR starts the fake (opts are awsfake's), the upstream registry and
// the front for reg; all stop when the test ends.
func StartECR(t testing.TB, reg awsfake.Registry, opts ...awsfake.Option) *ECR {
	t.Helper()
	fake := awsfake.Start(t, opts...)
	up, upURL := startUpstream(t)
	front := httptest.NewServer(awsfake.NewRegistryFront(fake, reg, upURL))
	t.Cleanup(front.Close)
	e := &ECR{Fake: fake, Registry: reg, Upstream: up, Host: strings.TrimPrefix(front.URL, "http://")}
	t.Logf("ECR stand-in: AWS API %s, registry front %s, upstream (no auth) %s", fake.URL, e.Host, up.Host)
	return e
}

// PushImage pushes a small test image to repo:tag on the upstream (no
// credentials, no ocicred) and returns what it pushed. The same image is
// then served by the front at Host/repo:tag.
func (e *ECR) PushImage(t testing.TB, repo, tag string) Image {
	t.Helper()
	return pushUpstream(t, e.Upstream, "ECR", e.Host, repo, tag)
}

// startUpstream starts an open distribution registry (no auth), the real
// registry behind a cloud's stand-in front; it stops when the test ends.
func startUpstream(t testing.TB) (*localreg.Registry, *url.URL) {
	t.Helper()
	up, err := localreg.StartDistribution(t.Context(), localreg.Distribution{
		Dir: t.TempDir(), NoAuth: true, RegistryBin: tool(t, "docker-registry"),
	})
	if err != nil {
		t.Fatalf("start the upstream registry: %v", err)
	}
	t.Cleanup(func() {
		if err := up.Close(); err != nil {
			t.Errorf("stop the upstream registry: %v", err)
		}
		if t.Failed() {
			t.Logf("upstream registry %s log:\n%s", up.Host, up.Output())
		}
	})
	upURL, err := url.Parse(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	return up, upURL
}

// pushUpstream pushes a small test image, whose text names cloud, to
// repo:tag on up (no credentials, no ocicred) and returns what it pushed;
// the front at front serves the same image.
func pushUpstream(t testing.TB, up *localreg.Registry, cloud, front, repo, tag string) Image {
	t.Helper()
	text := "hello from " + cloud + " " + repo + ":" + tag + "\n"
	digest, err := up.PushTestImage(t.Context(), repo, tag, text, authn.Anonymous)
	if err != nil {
		t.Fatalf("push the test image: %v", err)
	}
	img := imageOf(t, text)
	if img.Manifest != digest {
		t.Fatalf("pushed %s, but the test image's digest is %s", digest, img.Manifest)
	}
	t.Logf("pushed %s/%s:%s %s (served by the front at %s)", up.Host, repo, tag, digest, front)
	return img
}

// ECRRegistry is one `type: ecr` entry of the ocicred config.
type ECRRegistry struct {
	Name, Endpoint, Region string
	// Unprotected writes protected: false (no credentials).
	Unprotected bool
	// AccessKeyID and SecretKeyEnv, when set, are `credentials: {type:
	// secret}`; the secret key is read from that environment variable.
	AccessKeyID, SecretKeyEnv string
}

// WriteECRConfig writes an ocicred config of ECR registries (mode 0600).
func WriteECRConfig(t testing.TB, path string, regs ...ECRRegistry) {
	t.Helper()
	var b strings.Builder
	b.WriteString("registries:\n")
	for _, r := range regs {
		fmt.Fprintf(&b, "  - name: %s\n    type: ecr\n    endpoint: %s\n", strconv.Quote(r.Name), strconv.Quote(r.Endpoint))
		if r.Region != "" {
			fmt.Fprintf(&b, "    region: %s\n", r.Region)
		}
		if r.Unprotected {
			b.WriteString("    protected: false\n")
		}
		if r.AccessKeyID != "" {
			fmt.Fprintf(&b, "    credentials: {type: secret, accessKeyId: %s, secretAccessKeyEnv: %s}\n",
				strconv.Quote(r.AccessKeyID), r.SecretKeyEnv)
		}
	}
	writeFile(t, path, b.String())
}

// Status is what `ocicred status --json` prints, as the spec shows it. It is
// declared here on purpose rather than taken from localapi: the black-box
// tests hold the spec's JSON names, which a rename in localapi must not move.
type Status struct {
	Config      string           `json:"config"`
	ConfigError string           `json:"configError"`
	Registries  []RegistryStatus `json:"registries"`
}

// RegistryStatus is one registry of Status.
type RegistryStatus struct {
	Name          string `json:"name"`
	Type          string `json:"type"`
	Endpoint      string `json:"endpoint"`
	State         string `json:"state"`
	ExpiresAt     string `json:"expiresAt"`
	RefreshedAt   string `json:"refreshedAt"`
	NextRefreshAt string `json:"nextRefreshAt"`
	LastError     string `json:"lastError"`
	Note          string `json:"note"`
}

// Registry returns the status of the registry called name.
func (s Status) Registry(name string) (RegistryStatus, bool) {
	for _, r := range s.Registries {
		if r.Name == name {
			return r, true
		}
	}
	return RegistryStatus{}, false
}

// Times parses the registry's RFC 3339 times; a missing one is zero.
func (r RegistryStatus) Times() (expires, refreshed, next time.Time) {
	parse := func(s string) time.Time {
		tm, _ := time.Parse(time.RFC3339, s)
		return tm
	}
	return parse(r.ExpiresAt), parse(r.RefreshedAt), parse(r.NextRefreshAt)
}

// Status runs `ocicred status --json` without logging it; the caller logs
// what it decides on (polling would flood the log).
func (e *Env) Status(t testing.TB) (Status, Result) {
	t.Helper()
	r := e.RunQuiet("", e.Bin.Ocicred, "status", "--json", "--socket", e.Socket, "--config", e.Config)
	var st Status
	if r.Err != nil {
		return st, r
	}
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
		t.Fatalf("ocicred status --json: decode: %v\n%s", err, e.Redact(r.Stdout))
	}
	return st, r
}

// WaitStatus polls `ocicred status --json` until cond holds for registry
// name, or fails the test after timeout. It logs the last answer.
func (e *Env) WaitStatus(t testing.TB, name string, timeout time.Duration, what string, cond func(RegistryStatus) bool) RegistryStatus {
	t.Helper()
	start := time.Now()
	for {
		st, r := e.Status(t)
		rs, ok := st.Registry(name)
		if r.Err == nil && ok && cond(rs) {
			e.LogRun(t, r, time.Since(start), e.Bin.Ocicred, "status", "--json", "(polled until "+what+")")
			return rs
		}
		if time.Since(start) > timeout {
			e.LogRun(t, r, time.Since(start), e.Bin.Ocicred, "status", "--json")
			t.Fatalf("registry %s: not %s within %s", name, what, timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// HelperAnswer is the helper's credentials JSON.
type HelperAnswer struct {
	ServerURL, Username, Secret string
}

// HelperGet runs `docker-credential-ocicred get` with server on stdin. When
// it answers credentials, the secret is added to Secrets before anything is
// logged, so neither this log line nor later ones show it.
func (e *Env) HelperGet(t testing.TB, server string) (HelperAnswer, Result) {
	t.Helper()
	start := time.Now()
	r := e.RunQuiet(server, e.Helper, "get")
	var a HelperAnswer
	if r.Err == nil && json.Unmarshal([]byte(r.Stdout), &a) == nil && a.Secret != "" {
		e.Secrets = append(e.Secrets, a.Secret)
	}
	e.LogRun(t, r, time.Since(start), e.Helper, "get", "<<< "+server)
	return a, r
}
