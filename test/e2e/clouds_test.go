package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/test/awsfake"
	"github.com/ocicred/ocicred/test/azfake"
	"github.com/ocicred/ocicred/test/gcpfake"
)

// cloudLifetime is the GAR and ACR stand-ins' token lifetime in
// TestEveryCloudOnOneNode: the daemon refreshes after about half of it, so
// a refresh (and an outage of it) falls within the test, and the last good
// token still has a third of its life or more (over 25 s) when the first
// refresh in the outage has failed: time for status, the helper and a pull
// on a busy machine (at 40 s, a pull that took 6 s once outlived it).
const cloudLifetime = 80 * time.Second

// Identities of the node's three registries at their clouds' stand-ins.
const (
	garAccount = "puller@ocicred-e2e.iam.gserviceaccount.com"
	acrTenant  = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	acrClient  = "00000000-0000-0000-0000-0000000c1d1e"
	acrEnv     = "OCICRED_TEST_ACR_SECRET"
)

// cloudNode is a node whose one ocicred config serves an ECR, a GAR and an
// ACR registry, each with its own identity, at the three clouds'
// stand-ins: secret keys from the environment (ECR), a service account
// key file (GAR), a client secret from the environment with Entra ID over
// TLS (ACR). Every client is sent to docker-credential-ocicred.
type cloudNode struct {
	*Env
	ecr *ECR
	gar *GAR
	acr *ACR
	// regs are the registries by config name, with what a pull must get.
	regs []cloudRegistry
}

type cloudRegistry struct {
	name, typ, host, ref, user string
	image                      Image
}

func newCloudNode(t *testing.T, garOpts []gcpfake.Option, acrOpts []azfake.Option) *cloudNode {
	t.Helper()
	env := NewEnv(t, BuildBinaries(t))
	n := &cloudNode{Env: env, ecr: StartECR(t, prodRegistry), gar: StartGAR(t, garOpts...), acr: StartACR(t, acrOpts...)}

	awsSecret, azureSecret := Secret("aws-secret-key"), Secret("azure-client-secret")
	n.ecr.Fake.AddKey(testAccessKeyID, awsSecret)
	key := n.gar.Fake.NewKey(garAccount)
	n.gar.Fake.GrantReader(garAccount)
	keyFile := filepath.Join(env.Root, "gar-key.json")
	if err := os.WriteFile(keyFile, key.JSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	var keyFields struct {
		PrivateKey string `json:"private_key"`
	}
	if err := json.Unmarshal(key.JSON(), &keyFields); err != nil || keyFields.PrivateKey == "" {
		t.Fatalf("the fake's key has no private_key: %v", err)
	}
	n.acr.Fake.AddClientSecret(acrTenant, acrClient, azureSecret)
	n.acr.Registry.Grant(acrClient)
	env.Secrets = append(env.Secrets, awsSecret, azureSecret, strings.TrimSpace(keyFields.PrivateKey))
	env.Extra = append(append(n.ecr.Fake.Env(), n.acr.Fake.Env()...),
		secretKeyEnv+"="+awsSecret, acrEnv+"="+azureSecret)

	cfg := `registries:
  - name: prod
    type: ecr
    endpoint: http://` + n.ecr.Host + `
    region: ` + n.ecr.Registry.Region + `
    credentials: {type: secret, accessKeyId: ` + testAccessKeyID + `, secretAccessKeyEnv: ` + secretKeyEnv + `}
  - name: gar
    type: gar
    endpoint: http://` + n.gar.Host + `
    credentials: {type: serviceAccountKey, keyFile: ` + keyFile + `}
  - name: acr
    type: acr
    endpoint: http://` + n.acr.Host + `
    tenantId: ` + acrTenant + `
    authorityHost: ` + n.acr.Fake.AuthorityHost() + `
    disableInstanceDiscovery: true
    credentials: {type: clientSecret, clientId: ` + acrClient + `, clientSecretEnv: ` + acrEnv + `}
`
	writeFile(t, env.Config, cfg)
	if err := os.Chmod(env.Config, 0o600); err != nil {
		t.Fatal(err)
	}
	helpers := map[string]string{}
	for _, r := range []struct {
		name, typ, host, user string
		push                  func(testing.TB, string, string) Image
	}{
		{"prod", config.TypeECR, n.ecr.Host, config.UserECR, n.ecr.PushImage},
		{"gar", config.TypeGAR, n.gar.Host, config.UserGAR, n.gar.PushImage},
		{"acr", config.TypeACR, n.acr.Host, config.UserACR, n.acr.PushImage},
	} {
		img := r.push(t, repo, tag)
		n.regs = append(n.regs, cloudRegistry{name: r.name, typ: r.typ, host: r.host, user: r.user,
			ref: r.host + "/" + repo + ":" + tag, image: img})
		helpers[r.host] = "ocicred"
	}
	WriteDockerConfig(t, env.DockerConfig, DockerConfig{CredHelpers: helpers})
	return n
}

// TestEveryCloudOnOneNode: one daemon serves an ECR, a GAR and an ACR
// registry, each with its own identity, to the helper (crane, docker),
// `ocicred get`, `check`, `status` and the kubelet plugin; GAR and ACR
// tokens are refreshed without a pull asking; while either cloud's token
// service fails, the last good token keeps serving; with the daemon down,
// the helper's fallback fetches from each cloud itself.
func TestEveryCloudOnOneNode(t *testing.T) {
	t.Parallel()
	Need(t, needs(ecrTools, []string{"crane"})...)
	n := newCloudNode(t, []gcpfake.Option{gcpfake.WithTokenLifetime(cloudLifetime)},
		[]azfake.Option{azfake.WithRefreshLifetime(cloudLifetime)})
	n.HelperWithoutFallback(t) // answers below come from the daemon
	d := StartDaemon(t, n.Env)

	first := map[string]string{}
	for _, r := range n.regs {
		a, res := n.HelperGet(t, r.host)
		if res.Err != nil || a.Username != r.user || a.Secret == "" {
			t.Fatalf("%s: helper get: exit %d, user %q; want %s and a token", r.name, res.ExitCode, a.Username, r.user)
		}
		first[r.name] = a.Secret
		if digest, pull := n.CranePull(t, r.ref, r.image); pull.Err != nil || digest != r.image.Manifest {
			t.Errorf("%s: crane pull through the helper: exit %d, digest %s, want %s", r.name, pull.ExitCode, digest, r.image.Manifest)
		}
	}
	if c := n.ecr.Fake.CallCount(awsfake.ECRGetAuthorizationToken); c != 1 {
		t.Errorf("%d GetAuthorizationToken calls, want 1 (one identity, 12 h tokens)", c)
	}
	if c := n.acr.Fake.CallCount(azfake.EndpointToken); c != 1 {
		t.Errorf("%d Entra ID token requests, want 1 (azidentity keeps the token for its hour)", c)
	}

	t.Run("check and status", func(t *testing.T) {
		r := n.Run(t, "", n.Bin.Ocicred, "check")
		if r.Err != nil || strings.Count(r.Stdout, ": ok: ") != 3 {
			t.Errorf("ocicred check: exit %d\n%s", r.ExitCode, r.Output())
		}
		st, res := n.Status(t)
		n.assertNoSecrets(t, "ocicred status", res.Output())
		for _, reg := range n.regs {
			rs, ok := st.Registry(reg.name)
			if !ok || rs.State != "ready" || rs.Type != reg.typ {
				t.Errorf("status of %s: %+v, want type %s, ready", reg.name, rs, reg.typ)
			}
			if reg.typ != config.TypeECR && !strings.Contains(rs.Note, "hosts.toml is not written") {
				t.Errorf("status of %s says nothing of hosts.toml: note %q", reg.name, rs.Note)
			}
		}
	})

	t.Run("kubelet plugin", func(t *testing.T) {
		for _, reg := range n.regs {
			r := n.Run(t, kubeletRequest(reg.ref), n.Bin.Ocicred, "kubelet-credential-provider")
			if r.Err != nil {
				t.Fatalf("%s: kubelet-credential-provider: %v", reg.name, r.Err)
			}
			resp := decodeKubeletResponse(t, r.Stdout)
			auth, ok := resp.Auth[reg.host]
			if !ok || auth.Username != reg.user || auth.Password == "" {
				t.Fatalf("%s: kubelet answer for %s: %+v; want %s and a token", reg.name, reg.host, resp.Auth, reg.user)
			}
			n.Secrets = append(n.Secrets, auth.Password)
			node := NewEnv(t, n.Bin)
			WriteDockerConfig(t, node.DockerConfig, DockerConfig{Auths: map[string]DockerAuth{
				reg.host: {Auth: base64.StdEncoding.EncodeToString([]byte(auth.Username + ":" + auth.Password))},
			}})
			if digest, pull := node.CranePull(t, reg.ref, reg.image); pull.Err != nil || digest != reg.image.Manifest {
				t.Errorf("%s: crane pull with the kubelet plugin's credentials: exit %d", reg.name, pull.ExitCode)
			}
		}
	})

	t.Run("refresh without a pull, and the last good token through an outage", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 3*cloudLifetime) // a guard: refreshes are due in 32 to 48 s
		defer cancel()
		gar0, acr0 := n.gar.Fake.CallCount(gcpfake.EndpointToken), n.acr.Fake.CallCount(azfake.EndpointExchange)
		if err := n.gar.Fake.WaitCalls(ctx, gcpfake.EndpointToken, gar0+1); err != nil {
			t.Fatalf("no GAR refresh: %v", err)
		}
		if err := n.acr.Fake.WaitCalls(ctx, azfake.EndpointExchange, acr0+1); err != nil {
			t.Fatalf("no ACR refresh: %v", err)
		}
		for _, name := range []string{"gar", "acr"} {
			n.WaitStatus(t, name, time.Minute, "refreshed", func(r RegistryStatus) bool {
				_, refreshed, _ := r.Times()
				return r.State == "ready" && refreshed.After(time.Now().Add(-cloudLifetime))
			})
		}
		good := map[string]string{}
		for _, r := range n.regs[1:] {
			a, _ := n.HelperGet(t, r.host)
			if a.Secret == first[r.name] {
				t.Errorf("%s: the helper still answers the first token after a refresh", r.name)
			}
			good[r.name] = a.Secret
		}

		n.gar.Fake.Inject(gcpfake.ServiceUnavailable, gcpfake.EndpointToken, gcpfake.Forever)
		n.acr.Fake.Inject(azfake.ServiceUnavailable, azfake.EndpointExchange, azfake.Forever)
		gar1, acr1 := n.gar.Fake.CallCount(gcpfake.EndpointToken), n.acr.Fake.CallCount(azfake.EndpointExchange)
		if err := n.gar.Fake.WaitCalls(ctx, gcpfake.EndpointToken, gar1+1); err != nil {
			t.Fatalf("no GAR refresh in the outage: %v", err)
		}
		if err := n.acr.Fake.WaitCalls(ctx, azfake.EndpointExchange, acr1+1); err != nil {
			t.Fatalf("no ACR refresh in the outage: %v", err)
		}
		for _, r := range n.regs[1:] {
			rs := n.WaitStatus(t, r.name, time.Minute, "a failed refresh", func(rs RegistryStatus) bool { return rs.LastError != "" })
			if rs.State != "ready" {
				t.Errorf("%s in the outage: state %s, want ready on its last good token", r.name, rs.State)
			}
			a, res := n.HelperGet(t, r.host)
			if res.Err != nil || a.Secret != good[r.name] {
				t.Errorf("%s in the outage: helper exit %d, same token %v; want the last good token", r.name, res.ExitCode, a.Secret == good[r.name])
			}
			if _, pull := n.CranePull(t, r.ref, r.image); pull.Err != nil {
				t.Errorf("%s in the outage: crane pull with the last good token: exit %d", r.name, pull.ExitCode)
			}
		}
		n.gar.Fake.ClearFaults()
		n.acr.Fake.ClearFaults()
		for _, r := range n.regs[1:] {
			n.WaitStatus(t, r.name, 2*cloudLifetime, "recovered", func(rs RegistryStatus) bool { return rs.State == "ready" && rs.LastError == "" })
		}
	})

	t.Run("docker", func(t *testing.T) {
		Need(t, "dockerd", "docker")
		RequireRoot(t, "runs dockerd")
		dockerd := StartDockerd(t, n.Env)
		for _, r := range n.regs {
			if digest, pull := dockerd.Pull(t, r.ref, r.image); pull.Err != nil || digest != r.image.Manifest {
				t.Errorf("%s: docker pull through the helper: exit %d, digest %s, want %s", r.name, pull.ExitCode, digest, r.image.Manifest)
			}
		}
	})

	d.Stop(t)
	n.assertNoSecrets(t, "the daemon log", d.Log())

	t.Run("daemon down: the helper's fallback asks each cloud", func(t *testing.T) {
		node := *n.Env
		node.Helper = n.Bin.Helper // with ocicred beside it
		for _, r := range n.regs {
			a, res := node.HelperGet(t, r.host)
			if res.Err != nil || a.Username != r.user || a.Secret == "" {
				t.Errorf("%s without the daemon: helper exit %d, user %q\n%s", r.name, res.ExitCode, a.Username, node.Redact(res.Stderr))
				continue
			}
			n.Secrets = append(n.Secrets, a.Secret)
			if _, pull := node.CranePull(t, r.ref, r.image); pull.Err != nil {
				t.Errorf("%s without the daemon: crane pull: exit %d", r.name, pull.ExitCode)
			}
		}
	})
}

// assertNoSecrets fails when text holds a secret of the node or a token
// any client was given.
func (n *cloudNode) assertNoSecrets(t *testing.T, where, text string) {
	t.Helper()
	for _, s := range n.Secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s holds a secret or token", where)
			return
		}
	}
}
