package e2e

import (
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocicred/ocicred/test/awsfake"
)

// TestContainerdBasic: containerd never calls a credential helper, so the
// daemon's hosts.toml is the only way it can authenticate. Without the file
// ctr and crictl are refused by the registry (401 to requests without
// credentials); with the daemon up, ctr (--hosts-dir) and crictl (CRI,
// config_path) pull through its Authorization header, every blob checked;
// once the registry leaves the ocicred config the file goes and both are
// refused again.
func TestContainerdBasic(t *testing.T) {
	t.Parallel()
	Need(t, needs(registryTools, containerdTools)...)
	RequireRoot(t, "runs containerd")
	s := newScenario(t)
	hostsDir := filepath.Join(s.Root, "certs.d")
	SetContainerdHostsDir(t, s.Config, hostsDir)
	ctd := StartContainerd(t, hostsDir)
	basicAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(s.reg.User+":"+s.reg.Password))
	s.Secrets = append(s.Secrets, basicAuth[len("Basic "):])

	t.Run("without hosts.toml: refused", func(t *testing.T) {
		s.assertContainerdRefused(t, ctd)
	})

	d := StartDaemon(t, s.Env)
	h := WaitHostsFile(t, hostsDir, s.reg.Host, time.Minute, "written", func(HostsFile) bool { return true })
	switch {
	case h.Mode != 0o600:
		t.Errorf("hosts.toml mode %v, want 0600", h.Mode)
	case !strings.HasPrefix(h.Raw, "# written by ocicred"):
		t.Errorf("hosts.toml has no ocicred marker")
	case h.Server != "http://"+s.reg.Host:
		t.Errorf("hosts.toml server = %q, want http://%s", h.Server, s.reg.Host)
	case h.Authorization != basicAuth:
		t.Errorf("hosts.toml Authorization is not Basic %s:<the registry password>", s.reg.User)
	}

	t.Run("ctr", func(t *testing.T) {
		r := ctd.CtrPull(t, s.Env, s.ref, s.image)
		if r.Err != nil || !strings.Contains(r.Output(), s.digest) {
			t.Fatalf("ctr pull through hosts.toml: exit %d, want success with %s", r.ExitCode, s.digest)
		}
	})
	t.Run("crictl", func(t *testing.T) {
		digest, r := ctd.CrictlPull(t, s.Env, s.ref, s.image)
		if r.Err != nil || digest != s.digest {
			t.Fatalf("crictl pull through config_path: exit %d, digest %q; want %s", r.ExitCode, digest, s.digest)
		}
	})
	t.Run("status", func(t *testing.T) {
		s.assertStatus(t)
		st, r := s.Status(t)
		if rs, ok := st.Registry("local"); r.Err != nil || !ok || rs.LastError != "" {
			t.Errorf("status of local: %+v (%v), want no lastError: the hosts.toml is fine", rs, r.Err)
		}
	})

	t.Run("registry removed", func(t *testing.T) {
		WriteOcicredConfig(t, s.Config) // no registries
		SetContainerdHostsDir(t, s.Config, hostsDir)
		WaitNoHostsFile(t, hostsDir, s.reg.Host, time.Minute)
		s.assertContainerdRefused(t, ctd)
	})
	if !ctd.Running() {
		t.Error("containerd exited during the test")
	}
	d.Stop(t)
	assertNoSecret(t, "the daemon log", d.Log(), s.reg.Password)
	assertNoSecret(t, "the daemon log", d.Log(), basicAuth[len("Basic "):])
}

// containerdTokenLife is the fake ECR's token lifetime in the containerd
// refresh test: the daemon refreshes after 40 to 60 % of it.
const containerdTokenLife = 20 * time.Second

// TestContainerdECRRefresh: a protected ECR registry (awsfake's registry
// front, 20 s tokens) gets a hosts.toml once the daemon has its first token;
// ctr and crictl pull with it. The daemon refreshes the token at about half
// its life and rewrites the file; once the first token has expired, ctr and
// crictl pull a new image with the new one, from the same containerd
// process: hosts.toml is read on every pull, no restart needed.
func TestContainerdECRRefresh(t *testing.T) {
	t.Parallel()
	Need(t, needs(ecrTools, containerdTools)...)
	RequireRoot(t, "runs containerd")
	bin := BuildBinaries(t)
	ecr := StartECR(t, prodRegistry, awsfake.WithTokenLifetime(containerdTokenLife))
	env := NewEnv(t, bin)
	secretKey := Secret("aws-secret-key")
	env.Secrets = append(env.Secrets, secretKey)
	ecr.Fake.AddKey("AKIAIOSFODNN7EXAMPLE", secretKey)
	env.Extra = append(ecr.Fake.Env(), "OCICRED_CTD_SECRET_KEY="+secretKey)
	hostsDir := filepath.Join(env.Root, "certs.d")
	WriteECRConfig(t, env.Config, ECRRegistry{Name: "prod", Endpoint: "http://" + ecr.Host, Region: ecr.Registry.Region,
		AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretKeyEnv: "OCICRED_CTD_SECRET_KEY"})
	SetContainerdHostsDir(t, env.Config, hostsDir)
	v1 := ecr.Host + "/" + repo + ":v1"
	v1Image := ecr.PushImage(t, repo, "v1")
	ctd := StartContainerd(t, hostsDir)
	pid := ctd.Pid()

	d := StartDaemon(t, env)
	started := time.Now()
	first := WaitHostsFile(t, hostsDir, ecr.Host, time.Minute, "written with the first token", func(HostsFile) bool { return true })
	env.Secrets = append(env.Secrets, tokenOf(first.Authorization))
	if !ecr.Fake.ValidAuthorization(first.Authorization) || first.Mode != 0o600 || first.Server != "http://"+ecr.Host {
		t.Fatalf("hosts.toml: server %q mode %v, valid token %v; want http://%s, 0600, a token the fake issued",
			first.Server, first.Mode, ecr.Fake.ValidAuthorization(first.Authorization), ecr.Host)
	}
	if r := ctd.CtrPull(t, env, v1, v1Image); r.Err != nil || !strings.Contains(r.Output(), v1Image.Manifest) {
		t.Fatalf("ctr pull with the first token: exit %d", r.ExitCode)
	}
	if digest, r := ctd.CrictlPull(t, env, v1, v1Image); r.Err != nil || digest != v1Image.Manifest {
		t.Fatalf("crictl pull with the first token: exit %d, digest %q", r.ExitCode, digest)
	}

	// The guards below are not deadlines the daemon must meet: a refresh is
	// due 8 to 12 s after the first token, which expires after 20 s.
	second := WaitHostsFile(t, hostsDir, ecr.Host, 2*containerdTokenLife+time.Minute, "rewritten by a refresh", func(h HostsFile) bool {
		return h.Authorization != first.Authorization
	})
	env.Secrets = append(env.Secrets, tokenOf(second.Authorization))
	t.Logf("hosts.toml rewritten %s after the daemon started", time.Since(started).Round(100*time.Millisecond))
	if !ecr.Fake.ValidAuthorization(second.Authorization) || second.Mode != 0o600 {
		t.Fatalf("hosts.toml after the refresh: mode %v, valid token %v", second.Mode, ecr.Fake.ValidAuthorization(second.Authorization))
	}

	// Only the new token can work from here: pull an image containerd has
	// never seen, so every blob is fetched with it.
	waitFor(t, 2*containerdTokenLife+time.Minute, "the first token to expire", func() bool {
		return !ecr.Fake.ValidAuthorization(first.Authorization)
	})
	v2 := ecr.Host + "/" + repo + ":v2"
	v2Image := ecr.PushImage(t, repo, "v2")
	if r := ctd.CtrPull(t, env, v2, v2Image); r.Err != nil || !strings.Contains(r.Output(), v2Image.Manifest) {
		t.Errorf("ctr pull with the refreshed token: exit %d", r.ExitCode)
	}
	if digest, r := ctd.CrictlPull(t, env, v2, v2Image); r.Err != nil || digest != v2Image.Manifest {
		t.Errorf("crictl pull with the refreshed token: exit %d, digest %q", r.ExitCode, digest)
	}
	if !ctd.Running() || ctd.Pid() != pid {
		t.Error("containerd did not stay up through the refresh")
	}

	d.Stop(t)
	for _, sec := range env.Secrets {
		if strings.Contains(d.Log(), sec) {
			t.Errorf("the daemon log holds a secret (%d bytes)", len(sec))
		}
	}
	for _, h := range []HostsFile{first, second} {
		if strings.Contains(d.Log(), strings.TrimPrefix(h.Authorization, "Basic ")) {
			t.Error("the daemon log holds a hosts.toml Authorization header")
		}
	}
}

// tokenOf is the password in "Basic base64(AWS:password)".
func tokenOf(authorization string) string {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(authorization, "Basic "))
	if err != nil {
		return ""
	}
	_, pass, _ := strings.Cut(string(raw), ":")
	return pass
}

// assertContainerdRefused removes the image from ctr's and the CRI's store
// (so the pull goes to the registry for everything) and checks that ctr
// and crictl pulls fail with 401, and that the registry answered them 401
// to requests without credentials: nothing but a hosts.toml could have
// given containerd any.
func (s *scenario) assertContainerdRefused(t *testing.T, ctd *Containerd) {
	t.Helper()
	ctd.CtrRemove(t, s.Env, s.ref)
	mark := s.reg.Mark()
	if r := ctd.CtrPull(t, s.Env, s.ref, s.image); !IsUnauthorized(r) {
		t.Errorf("ctr pull: exit %d, want a 401 failure", r.ExitCode)
	}
	s.reg.assertRefusedByRegistry(t, mark, "ctr", "")
	ctd.CrictlRemove(t, s.Env, s.ref)
	mark = s.reg.Mark()
	if _, r := ctd.CrictlPull(t, s.Env, s.ref, s.image); !IsUnauthorized(r) {
		t.Errorf("crictl pull: exit %d, want a 401 failure", r.ExitCode)
	}
	s.reg.assertRefusedByRegistry(t, mark, "crictl", "")
}
