package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

const (
	repo = "demo/hello"
	tag  = "v1"
	// notFound is docker's "no credentials" answer, on stdout with exit 1.
	notFound = "credentials not found in native keychain"
)

// scenario is a registry holding the test image, and a sandbox whose ocicred
// config manages that registry (password in a 0600 file) and whose docker
// config sends the registry to docker-credential-ocicred.
type scenario struct {
	*Env
	reg    *Registry
	ref    string // HOST/demo/hello:v1
	image  Image  // what was pushed
	digest string // its manifest digest
}

func newScenario(t *testing.T) *scenario {
	t.Helper()
	return newScenarioWith(t, StartRegistry)
}

// newScenarioWith is newScenario with the registry that start starts.
func newScenarioWith(t *testing.T, start func(testing.TB) *Registry) *scenario {
	t.Helper()
	bin := BuildBinaries(t)
	reg := start(t)
	env := NewEnv(t, bin)
	env.Secrets = append(env.Secrets, reg.Password)
	s := &scenario{Env: env, reg: reg, ref: reg.Host + "/" + repo + ":" + tag}
	s.image = reg.PushImage(t, repo, tag)
	s.digest = s.image.Manifest
	WriteOcicredConfig(t, env.Config, BasicRegistry{
		Name: "local", Endpoint: "http://" + reg.Host, Username: reg.User,
		PasswordFile: WritePasswordFile(t, env.Root, reg.Password),
	})
	WriteDockerConfig(t, env.DockerConfig, DockerConfig{CredHelpers: map[string]string{reg.Host: "ocicred"}})
	return s
}

// TestPullThroughDaemon: with the daemon up, the helper hands out the
// registry's credentials and crane and skopeo pull the image with them. The
// helper has no `ocicred` to fall back on, so the answers came from the
// daemon. No secret reaches the daemon's log or `ocicred status`.
func TestPullThroughDaemon(t *testing.T) {
	t.Parallel()
	Need(t, needs(registryTools, []string{"crane", "skopeo"})...)
	s := newScenario(t)
	s.HelperWithoutFallback(t)
	d := StartDaemon(t, s.Env)
	s.assertHelperAnswers(t)
	t.Run("crane", s.assertCranePulls)
	t.Run("skopeo", s.assertSkopeoPulls)
	t.Run("skopeo, containers auth.json", func(t *testing.T) {
		// Where `ocicred setup podman` writes: read before the docker config.
		WriteDockerConfig(t, s.DockerConfig, DockerConfig{})
		WriteAuthFile(t, filepath.Join(s.RuntimeDir, "containers", "auth.json"),
			DockerConfig{CredHelpers: map[string]string{s.reg.Host: "ocicred"}})
		s.assertSkopeoPulls(t)
	})
	t.Run("status", s.assertStatus)
	d.Stop(t)
	assertNoSecret(t, "the daemon log", d.Log(), s.reg.Password)
}

// assertStatus checks `ocicred status --json` against the spec: the config
// path, no config error, and the registry as a static basic one.
func (s *scenario) assertStatus(t *testing.T) {
	r := s.Run(t, "", s.Bin.Ocicred, "status", "--json", "--socket", s.Socket, "--config", s.Config)
	assertNoSecret(t, "ocicred status", r.Output(), s.reg.Password)
	if r.Err != nil {
		t.Fatalf("ocicred status --json: %v", r.Err)
	}
	var st struct {
		Config      string `json:"config"`
		ConfigError string `json:"configError"`
		Registries  []struct {
			Name, Type, Endpoint, State string
		} `json:"registries"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
		t.Fatalf("ocicred status --json: decode: %v", err)
	}
	if st.Config != s.Config || st.ConfigError != "" {
		t.Errorf("status config %q error %q, want %q and no error", st.Config, st.ConfigError, s.Config)
	}
	if len(st.Registries) != 1 {
		t.Fatalf("status lists %d registries, want 1", len(st.Registries))
	}
	got := st.Registries[0]
	if got.Name != "local" || got.Type != "basic" || got.State != "static" {
		t.Errorf("status registry name %q type %q state %q, want local, basic, static", got.Name, got.Type, got.State)
	}
}

// assertHelperAnswers checks the helper protocol directly, so that a client
// failure after it can be told apart from a helper failure.
func (s *scenario) assertHelperAnswers(t *testing.T) {
	t.Helper()
	r := s.Run(t, s.reg.Host, s.Helper, "get")
	var got struct{ ServerURL, Username, Secret string }
	switch err := json.Unmarshal([]byte(r.Stdout), &got); {
	case r.Err != nil || err != nil:
		t.Errorf("docker-credential-ocicred get %s: exit %d, want JSON credentials (decode: %v)", s.reg.Host, r.ExitCode, err)
	case got.Username != s.reg.User:
		t.Errorf("helper answered user %q, want %q", got.Username, s.reg.User)
	case got.Secret != s.reg.Password:
		t.Errorf("helper answered a secret that is not the registry's password")
	}
	r = s.Run(t, "unmanaged.example:5000", s.Helper, "get")
	if !isNotFound(r) {
		t.Errorf("helper get for an unmanaged host: exit %d stdout %q, want exit 1 %q", r.ExitCode, r.Stdout, notFound)
	}
}

// isNotFound reports whether a helper run gave docker's not-found answer.
func isNotFound(r Result) bool {
	return r.ExitCode == 1 && strings.TrimSuffix(r.Stdout, "\n") == notFound
}

func (s *scenario) assertCranePulls(t *testing.T) {
	digest, pull := s.CranePull(t, s.ref, s.image)
	if pull.Err != nil {
		t.Fatalf("crane through the helper: %v", pull.Err)
	}
	if digest != s.digest {
		t.Errorf("crane wrote manifest %s, pushed %s", digest, s.digest)
	}
	assertNoSecret(t, "crane's output", pull.Output(), s.reg.Password)
}

func (s *scenario) assertSkopeoPulls(t *testing.T) {
	digest, r := s.SkopeoCopy(t, s.ref, s.image)
	if r.Err != nil {
		t.Fatalf("skopeo copy through the helper: %v", r.Err)
	}
	if digest != s.digest {
		t.Errorf("skopeo copied manifest %s, pushed %s", digest, s.digest)
	}
	assertNoSecret(t, "skopeo's output", r.Output(), s.reg.Password)
}

func assertNoSecret(t *testing.T, where, text, secret string) {
	t.Helper()
	if secret != "" && strings.Contains(text, secret) {
		t.Errorf("%s contains the registry password", where)
	}
}
