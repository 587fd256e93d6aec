package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	kubeletconfigv1 "k8s.io/kubelet/config/v1"
	credentialproviderv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
	sigsjson "sigs.k8s.io/json"
)

// TestKubeletCredentialProvider drives `ocicred kubelet-credential-provider`
// as the kubelet does: a CredentialProviderRequest on stdin, the answer
// decoded strictly with the kubelet's own types, and the credentials it
// returned handed to crane (in a docker config `auths` entry, as the kubelet
// hands them to the runtime), which must pull the image with them.
func TestKubeletCredentialProvider(t *testing.T) {
	t.Parallel()
	Need(t, needs(registryTools, []string{"crane"})...)
	s := newScenario(t)
	// The plugin finds no config at this path: only the daemon can answer.
	noConfig := filepath.Join(s.Root, "no-such-config.yaml")
	d := StartDaemon(t, s.Env)

	t.Run("as installed by setup kubelet", func(t *testing.T) {
		resp := s.runInstalledKubeletPlugin(t)
		s.assertKubeletAuth(t, resp, s.reg.Password)
		s.assertKubeletAuthPulls(t, resp)
	})
	t.Run("daemon answers", func(t *testing.T) {
		resp := s.kubeletProvide(t, s.ref, "--config", noConfig)
		s.assertKubeletAuth(t, resp, s.reg.Password)
		s.assertKubeletAuthPulls(t, resp)
	})
	d.Stop(t)

	t.Run("daemon stopped, no config: no credentials", func(t *testing.T) {
		// The control for "daemon answers": without the daemon, the same
		// run knows nothing.
		assertKubeletNoAuth(t, s.kubeletProvide(t, s.ref, "--config", noConfig))
	})
	t.Run("daemon stopped: from the config", func(t *testing.T) {
		resp := s.kubeletProvide(t, s.ref)
		s.assertKubeletAuth(t, resp, s.reg.Password)
		s.assertKubeletAuthPulls(t, resp)
	})
	t.Run("unmanaged image: no credentials", func(t *testing.T) {
		assertKubeletNoAuth(t, s.kubeletProvide(t, "unmanaged.example:5000/demo/hello:v1"))
	})
	t.Run("wrong password in the ocicred config: refused", func(t *testing.T) {
		wrong := Secret("wrong")
		s.Secrets = append(s.Secrets, wrong)
		WriteOcicredConfig(t, s.Config, BasicRegistry{
			Name: "local", Endpoint: "http://" + s.reg.Host, Username: s.reg.User, Password: wrong,
		})
		d := StartDaemon(t, s.Env)
		resp := s.kubeletProvide(t, s.ref)
		s.assertKubeletAuth(t, resp, wrong)
		node := s.nodeWithAuth(t, resp)
		mark := s.reg.Mark()
		if _, pull := node.CranePull(t, s.ref, s.image); !IsUnauthorized(pull) {
			t.Errorf("crane pull with the plugin's (wrong) credentials: exit %d, want a 401/UNAUTHORIZED failure", pull.ExitCode)
		}
		s.reg.assertRefusedByRegistry(t, mark, "crane with the plugin's (wrong) credentials", s.reg.User)
		d.Stop(t)
		assertNoSecret(t, "the daemon log", d.Log(), wrong)
	})
}

// kubeletRequest is what the kubelet writes to the plugin's stdin.
func kubeletRequest(image string) string {
	return `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"` + image + `"}`
}

// kubeletProvide runs `ocicred kubelet-credential-provider ARGS…` in the
// sandbox with a request for image, and decodes its answer.
func (s *scenario) kubeletProvide(t *testing.T, image string, args ...string) credentialproviderv1.CredentialProviderResponse {
	t.Helper()
	r := s.Run(t, kubeletRequest(image), s.Bin.Ocicred, append([]string{"kubelet-credential-provider"}, args...)...)
	if r.Err != nil {
		t.Fatalf("ocicred kubelet-credential-provider: %v", r.Err)
	}
	return decodeKubeletResponse(t, r.Stdout)
}

// runInstalledKubeletPlugin runs `ocicred setup kubelet` into the sandbox,
// reads the CredentialProviderConfig it wrote with the kubelet's types, and
// runs the plugin as the kubelet would: BINDIR/NAME ARGS, with the
// provider's env added to an environment that names no ocicred config or
// socket of its own.
func (s *scenario) runInstalledKubeletPlugin(t *testing.T) credentialproviderv1.CredentialProviderResponse {
	t.Helper()
	cfgFile := filepath.Join(s.Root, "kubelet", "credential-provider-config.yaml")
	binDir := filepath.Join(s.Root, "kubelet", "plugins")
	s.Setup(t, "kubelet", "--config-file", cfgFile, "--bin-dir", binDir, "--socket", s.Socket)
	p := providerNamed(t, cfgFile, "ocicred")
	if p.APIVersion != "credentialprovider.kubelet.k8s.io/v1" {
		t.Errorf("provider apiVersion %q", p.APIVersion)
	}
	if !slices.Contains(p.MatchImages, s.reg.Host) {
		t.Errorf("provider matchImages %q does not list %s", p.MatchImages, s.reg.Host)
	}
	env := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + s.Home}
	for _, v := range p.Env {
		env = append(env, v.Name+"="+v.Value)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // the kubelet's timeout
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, p.Name), p.Args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(kubeletRequest(s.ref))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := Result{Stdout: stdout.String(), Stderr: stderr.String(), ExitCode: exitCode(err), Err: err}
	s.LogRun(t, r, time.Since(start), cmd.Path, p.Args...)
	if err != nil {
		t.Fatalf("the installed plugin (env %v): %v", p.Env, err)
	}
	return decodeKubeletResponse(t, r.Stdout)
}

// providerNamed reads a CredentialProviderConfig (YAML) strictly with the
// kubelet's types and returns its provider named name.
func providerNamed(t *testing.T, path, name string) kubeletconfigv1.CredentialProvider {
	t.Helper()
	var doc any
	if err := yaml.Unmarshal([]byte(ReadFile(t, path)), &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var cfg kubeletconfigv1.CredentialProviderConfig
	strict, err := sigsjson.UnmarshalStrict(data, &cfg)
	if err != nil || len(strict) > 0 {
		t.Fatalf("%s: the kubelet's strict decode: %v %v", path, err, strict)
	}
	if cfg.Kind != "CredentialProviderConfig" || cfg.APIVersion != "kubelet.config.k8s.io/v1" {
		t.Errorf("%s: kind/apiVersion %q/%q", path, cfg.Kind, cfg.APIVersion)
	}
	for _, p := range cfg.Providers {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("%s has no provider %q", path, name)
	return kubeletconfigv1.CredentialProvider{}
}

// decodeKubeletResponse decodes the plugin's stdout the way the kubelet
// does: strictly (an unknown or duplicate field discards the answer), with
// the right kind and apiVersion.
func decodeKubeletResponse(t *testing.T, stdout string) credentialproviderv1.CredentialProviderResponse {
	t.Helper()
	var resp credentialproviderv1.CredentialProviderResponse
	strict, err := sigsjson.UnmarshalStrict([]byte(stdout), &resp)
	if err != nil || len(strict) > 0 {
		t.Fatalf("the kubelet's strict decode of the answer: %v %v", err, strict)
	}
	if resp.Kind != "CredentialProviderResponse" || resp.APIVersion != "credentialprovider.kubelet.k8s.io/v1" {
		t.Fatalf("answer kind/apiVersion %q/%q", resp.Kind, resp.APIVersion)
	}
	return resp
}

// assertKubeletAuth checks an answer for the scenario's image: keyed by the
// registry host alone, the registry's user and password, cached per
// registry for a while.
func (s *scenario) assertKubeletAuth(t *testing.T, resp credentialproviderv1.CredentialProviderResponse, password string) {
	t.Helper()
	if resp.CacheKeyType != credentialproviderv1.RegistryPluginCacheKeyType {
		t.Errorf("cacheKeyType %q, want %q", resp.CacheKeyType, credentialproviderv1.RegistryPluginCacheKeyType)
	}
	if resp.CacheDuration == nil || resp.CacheDuration.Duration <= 0 {
		t.Errorf("cacheDuration %v, want a positive duration", resp.CacheDuration)
	}
	if len(resp.Auth) != 1 {
		t.Fatalf("auth has %d entries, want 1 for %s", len(resp.Auth), s.reg.Host)
	}
	got, ok := resp.Auth[s.reg.Host]
	switch {
	case !ok:
		t.Fatalf("auth is not keyed by the registry host %s", s.reg.Host)
	case got.Username != s.reg.User:
		t.Errorf("auth username %q, want %q", got.Username, s.reg.User)
	case got.Password != password:
		t.Errorf("auth password is not the one in the ocicred config")
	}
}

func assertKubeletNoAuth(t *testing.T, resp credentialproviderv1.CredentialProviderResponse) {
	t.Helper()
	if len(resp.Auth) != 0 {
		t.Errorf("auth has %d entries, want none", len(resp.Auth))
	}
}

// nodeWithAuth is a fresh sandbox whose docker config holds the answer's
// credentials as plain `auths` entries: no helper, no ocicred.
func (s *scenario) nodeWithAuth(t *testing.T, resp credentialproviderv1.CredentialProviderResponse) *Env {
	t.Helper()
	node := NewEnv(t, s.Bin)
	node.Secrets = s.Secrets
	auths := map[string]DockerAuth{}
	for host, a := range resp.Auth {
		auths[host] = DockerAuth{Auth: base64.StdEncoding.EncodeToString([]byte(a.Username + ":" + a.Password))}
	}
	WriteDockerConfig(t, node.DockerConfig, DockerConfig{Auths: auths})
	return node
}

// assertKubeletAuthPulls proves the answer's credentials work: crane pulls
// the image with them alone.
func (s *scenario) assertKubeletAuthPulls(t *testing.T, resp credentialproviderv1.CredentialProviderResponse) {
	t.Helper()
	digest, pull := s.nodeWithAuth(t, resp).CranePull(t, s.ref, s.image)
	if pull.Err != nil {
		t.Fatalf("crane with the plugin's credentials: %v", pull.Err)
	}
	if digest != s.digest {
		t.Errorf("crane wrote manifest %s, pushed %s", digest, s.digest)
	}
}
