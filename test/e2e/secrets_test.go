package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ocicred/ocicred/test/awsfake"
)

// secretText is one thing a user or an operator gets to see: a log, an
// error, a status, a metrics scrape.
type secretText struct{ where, text string }

// secretScenario collects every text the scenario produced and every
// secret it used.
type secretScenario struct {
	*Env
	fake    *awsfake.Server
	secrets map[string]string // what it is → the secret
	users   map[string]string // secret → the user name it goes with, for base64(user:secret)
	texts   []secretText
}

func (s *secretScenario) addSecret(what, user, secret string) {
	s.secrets[what] = secret
	s.users[secret] = user
	s.Secrets = append(s.Secrets, secret)
}

// run runs a command quietly and keeps its stderr, and its stdout unless
// the command answers credentials there (stdoutIsAnswer).
func (s *secretScenario) run(t *testing.T, stdoutIsAnswer bool, stdin, name string, args ...string) Result {
	t.Helper()
	start := time.Now()
	r := s.RunQuiet(stdin, name, args...)
	s.LogRun(t, r, time.Since(start), name, args...)
	what := filepath.Base(name) + " " + strings.Join(args, " ")
	s.texts = append(s.texts, secretText{what + " (stderr)", r.Stderr})
	if !stdoutIsAnswer || r.ExitCode != 0 {
		s.texts = append(s.texts, secretText{what + " (stdout)", r.Stdout})
	}
	return r
}

// basicServer is a registry /v2/ that accepts only user:password.
func basicServer(t *testing.T, user, password string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); ok && u == user && p == password {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestNoSecretAnywhere: the main scenarios with the real binaries at debug
// log level (the daemon, the helper with OCICRED_DEBUG=1, ocicred get,
// status, check, config validate and the kubelet plugin; with the daemon,
// through a refused reload and a SIGHUP, and without it), with Basic
// passwords inline, in a file and in the environment, AWS secret keys
// inline, from the environment and from a file, an assumed role, AWS
// refusing one identity, and the metrics endpoint on. No password, secret
// key or token, raw or base64 (alone or as user:secret), appears in any log
// line, error, status output or metrics scrape.
func TestNoSecretAnywhere(t *testing.T) {
	t.Parallel()
	Need(t)
	fake := awsfake.Start(t)
	env := NewEnv(t, BuildBinaries(t))
	s := &secretScenario{Env: env, fake: fake, secrets: map[string]string{}, users: map[string]string{}}
	pwInline, pwFile, pwEnv := Secret("pw-inline"), Secret("pw-file"), Secret("pw-env")
	sk1, sk2, sk3 := Secret("sk-inline"), Secret("sk-env"), Secret("sk-file")
	s.addSecret("the inline password", "alice", pwInline)
	s.addSecret("the password file's password", "bob", pwFile)
	s.addSecret("the password from the environment", "carol", pwEnv)
	s.addSecret("the inline AWS secret key", "", sk1)
	s.addSecret("the AWS secret key from the environment", "", sk2)
	s.addSecret("the AWS secret key from a file", "", sk3)
	const deniedKey = "AKIAOCICREDDENIED001"
	fake.AddKey("AKIAOCICREDSECRETS01", sk1)
	fake.AddKey("AKIAOCICREDSECRETS02", sk2)
	fake.AddKey(deniedKey, sk3)
	fake.DenyAccessKey(deniedKey)

	pwPath := filepath.Join(env.Root, "secrets", "pw")
	skPath := filepath.Join(env.Root, "secrets", "sk")
	writeFile(t, pwPath, pwFile+"\n")
	writeFile(t, skPath, sk3+"\n")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metrics := ln.Addr().String()
	ln.Close()
	inlineHost, fileHost := basicServer(t, "alice", pwInline), basicServer(t, "bob", pwFile)
	envHost := basicServer(t, "carol", "not-"+pwEnv) // check fails against it
	const prodHost, roleHost, deniedHost = "123456789012.dkr.ecr.us-west-2.amazonaws.com",
		"210987654321.dkr.ecr.eu-west-1.amazonaws.com", "333333333333.dkr.ecr.us-east-2.amazonaws.com"
	valid := fmt.Sprintf(`metrics: %s
containerd:
  hostsDir: %s
registries:
  - {name: inline, type: basic, endpoint: "http://%s", username: alice, password: %s}
  - {name: file, type: basic, endpoint: "http://%s", username: bob, passwordFile: %s}
  - {name: env, type: basic, endpoint: "http://%s", username: carol, passwordEnv: OCICRED_SEC_PW}
  - name: prod
    type: ecr
    endpoint: %s
    credentials: {type: secret, accessKeyId: AKIAOCICREDSECRETS01, secretAccessKey: %s}
  - name: role
    type: ecr
    endpoint: %s
    credentials: {type: sts, roleArn: "arn:aws:iam::210987654321:role/ecr-pull", externalId: ext-secrets, accessKeyId: AKIAOCICREDSECRETS02, secretAccessKeyEnv: OCICRED_SEC_SK}
  - name: denied
    type: ecr
    endpoint: %s
    credentials: {type: secret, accessKeyId: %s, secretAccessKeyFile: %s}
`, metrics, filepath.Join(env.Root, "certs.d"), inlineHost, pwInline, fileHost, pwPath, envHost,
		prodHost, sk1, roleHost, deniedHost, deniedKey, skPath)
	writeFile(t, env.Config, valid)
	env.Extra = append(fake.Env(), "OCICRED_SEC_PW="+pwEnv, "OCICRED_SEC_SK="+sk2, "OCICRED_DEBUG=1")
	o := env.Bin.Ocicred
	hosts := []string{inlineHost, fileHost, envHost, prodHost, roleHost, deniedHost}

	d := StartDaemon(t, env) // --log-level debug
	s.WaitStatus(t, "denied", 15*time.Second, "refused by AWS", func(r RegistryStatus) bool { return r.State == "error" })
	for _, h := range hosts {
		r := s.run(t, true, h, env.Helper, "get")
		if h == prodHost || h == roleHost {
			var a HelperAnswer
			if r.Err != nil || json.Unmarshal([]byte(r.Stdout), &a) != nil || !fake.ValidToken(a.Username, a.Secret) {
				t.Fatalf("helper get %s: exit %d, want a token", h, r.ExitCode)
			}
			s.addSecret("the token of "+h, "AWS", a.Secret)
		}
	}
	s.run(t, false, "", env.Helper, "list")
	for _, h := range hosts {
		s.run(t, true, "", o, "get", h)
		s.run(t, true, kubeletRequest(h+"/team/app:v1"), o, "kubelet-credential-provider")
	}
	s.run(t, false, "", o, "status")
	s.run(t, false, "", o, "status", "--json")
	if r := s.run(t, false, "", o, "check", "inline", "file", "env", "denied"); r.ExitCode != 1 ||
		!strings.Contains(r.Stdout, "inline: ok") || !strings.Contains(r.Stdout, "env: FAILED") {
		t.Errorf("ocicred check: exit %d, want inline ok, env and denied failed", r.ExitCode)
	}
	s.run(t, false, "", o, "config", "validate")
	s.texts = append(s.texts, secretText{"the metrics scrape", scrapeMetrics(t, metrics)})

	// A refused reload of a file that holds every secret, each next to a
	// mistake an error message might quote.
	broken := strings.Replace(valid, "password: "+pwInline, "pasword: "+pwInline, 1)
	broken = strings.Replace(broken, "secretAccessKey: "+sk1, "secretAccessKey: ["+sk1+"]", 1)
	broken = strings.Replace(broken, "passwordFile: "+pwPath, "passwordFile: "+pwPath+", password: "+pwFile, 1)
	writeFile(t, env.Config, broken)
	waitConfigError(t, env, 10*time.Second, func(e string) bool { return e != "" })
	s.run(t, false, "", o, "status")
	s.run(t, false, "", o, "config", "validate")
	writeFile(t, env.Config, valid)
	waitConfigError(t, env, 10*time.Second, func(e string) bool { return e == "" })
	if err := syscall.Kill(d.Pid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	s.run(t, true, prodHost, env.Helper, "get")
	s.texts = append(s.texts, secretText{"the metrics scrape after the reloads", scrapeMetrics(t, metrics)})
	d.Stop(t)
	s.texts = append(s.texts, secretText{"the daemon log", d.Log()})

	// Without the daemon: the helper's fallback and ocicred get work the
	// answers out themselves.
	for _, h := range hosts {
		s.run(t, true, h, env.Helper, "get")
		s.run(t, true, "", o, "get", "--no-daemon", h)
		s.run(t, true, kubeletRequest(h+"/team/app:v1"), o, "kubelet-credential-provider")
	}
	if r := s.run(t, false, "", o, "status"); r.ExitCode == 0 {
		t.Error("ocicred status without a daemon: exit 0")
	}
	s.run(t, false, "", o, "check", "--no-daemon", "inline", "file", "env", "denied")

	checked := 0
	for _, tx := range s.texts {
		checked += len(tx.text)
		for what, sec := range s.secrets {
			for _, form := range secretForms(sec, s.users[sec]) {
				if strings.Contains(tx.text, form.text) {
					t.Errorf("%s holds %s (%s)", tx.where, what, form.name)
				}
			}
		}
	}
	t.Logf("%d outputs, %d bytes, checked for %d secrets in 3 forms each", len(s.texts), checked, len(s.secrets))
	for _, h := range []string{inlineHost, prodHost} {
		path := filepath.Join(env.Root, "certs.d", h, "hosts.toml")
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, want mode 0600", path, err)
		}
	}
}

type secretForm struct{ name, text string }

// secretForms are the ways a secret could leak: as is, in base64, and in
// base64 as user:secret (a Basic Authorization header, a docker auth).
func secretForms(secret, user string) []secretForm {
	forms := []secretForm{{"raw", secret}, {"base64", base64.StdEncoding.EncodeToString([]byte(secret))}}
	if user != "" {
		forms = append(forms, secretForm{"base64 " + user + ":secret", base64.StdEncoding.EncodeToString([]byte(user + ":" + secret))})
	}
	return forms
}

func scrapeMetrics(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "ocicred_requests_total") {
		t.Fatalf("metrics: %s, %v", resp.Status, err)
	}
	return string(b)
}
