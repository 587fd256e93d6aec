package helper

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocicred/ocicred/internal/resolve"
	"github.com/ocicred/ocicred/test/awsfake"
)

const (
	idxKeyID  = "AKIAOCICREDHELPERIDX1"
	idxSecret = "ocicred-helper-index-secret-key-must-not-leak"
	envHost   = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
	fileHost  = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
	teamHost  = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
	basicHost = "basic.example"
	basicPass = "pw-basic-must-stay-out-of-the-cache"
)

// indexStage is a config of token registries (one whose secret key comes
// from a variable, one from a file, one with an allow list) and a Basic
// one, AWS's stand-in, an empty token cache and no daemon.
type indexStage struct {
	srv                      *awsfake.Server
	cfg, sock, cache, skFile string
	fallbacks                int // runs of the slow path (`ocicred get`)
}

func newIndexStage(t *testing.T) *indexStage {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "OCICRED_") {
			t.Setenv(k, "")
			if err := os.Unsetenv(k); err != nil {
				t.Fatal(err)
			}
		}
	}
	s := &indexStage{srv: awsfake.Start(t, awsfake.WithKey(idxKeyID, idxSecret))}
	s.srv.Setenv(t)
	dir := t.TempDir()
	s.cfg, s.sock, s.cache, s.skFile = filepath.Join(dir, "config.yaml"), filepath.Join(dir, "ocicred.sock"),
		filepath.Join(dir, "cache"), filepath.Join(dir, "sk")
	t.Setenv("OCICRED_CACHE_DIR", s.cache)
	t.Setenv("OCICRED_HELPER_IDX_SK", idxSecret)
	writeFile(t, s.skFile, idxSecret)
	writeFile(t, s.cfg, `socket: `+s.sock+`
registries:
  - name: byenv
    type: ecr
    endpoint: `+envHost+`
    credentials: {type: secret, accessKeyId: `+idxKeyID+`, secretAccessKeyEnv: OCICRED_HELPER_IDX_SK}
  - name: byfile
    type: ecr
    endpoint: `+fileHost+`
    credentials: {type: secret, accessKeyId: `+idxKeyID+`, secretAccessKeyFile: `+s.skFile+`}
  - name: team
    type: ecr
    endpoint: `+teamHost+`
    allow: [root, "0"]
    credentials: {type: secret, accessKeyId: `+idxKeyID+`, secretAccessKeyEnv: OCICRED_HELPER_IDX_SK}
  - {name: basic, type: basic, endpoint: `+basicHost+`, username: bob, password: `+basicPass+`}
`)
	return s
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path+".new", []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
}

// helper is the helper with the daemon down, its slow path the real
// `ocicred get` logic (resolve.Resolve) in this process, counted.
func (s *indexStage) helper(debug *bytes.Buffer, now func() time.Time) *Helper {
	return New(Options{ConfigPath: s.cfg, Socket: s.sock, Debug: debug, Now: now,
		Fallback: func(ctx context.Context, server string, silent bool) (string, string, error) {
			s.fallbacks++
			opts := resolve.Options{ConfigPath: s.cfg, Socket: s.sock, Quiet: true}
			if silent {
				opts.SkipSocket = s.sock
			}
			ans, err := resolve.Resolve(ctx, opts, server, false)
			return ans.User, ans.Secret, err
		}})
}

// get asks h for host and says whether the slow path ran.
func (s *indexStage) get(t *testing.T, h *Helper, host string) (user, secret string, err error, slow bool) {
	t.Helper()
	before := s.fallbacks
	user, secret, err = h.Get(host)
	return user, secret, err, s.fallbacks > before
}

// With the daemon down, the second answer for a token registry comes from
// the index, with no run of `ocicred get`, and is what the slow path
// gave; the debug line says which path answered, and nothing written
// (the debug output, the index) holds a secret.
func TestIndexAnswersLikeTheSlowPath(t *testing.T) {
	s := newIndexStage(t)
	var debug bytes.Buffer
	h := s.helper(&debug, nil)
	for _, host := range []string{envHost, fileHost} {
		user, secret, err, slow := s.get(t, h, host)
		if err != nil || !slow || !s.srv.ValidToken(user, secret) {
			t.Fatalf("%s, first get: %q, valid %v, %v, slow path %v; want AWS's token from the slow path", host, user, s.srv.ValidToken(user, secret), err, slow)
		}
		if !strings.Contains(debug.String(), "no cached answer") {
			t.Errorf("%s: the debug output does not say why the index did not answer: %q", host, debug.String())
		}
		debug.Reset()
		user2, secret2, err, slow := s.get(t, h, host)
		if err != nil || slow || user2 != user || secret2 != secret {
			t.Errorf("%s, second get: same answer %v, %v, slow path %v; want the first answer from the index", host, user2 == user && secret2 == secret, err, slow)
		}
		if want := "registry " + map[string]string{envHost: "byenv", fileHost: "byfile"}[host] + ", token from the cache through the index"; !strings.Contains(debug.String(), want) {
			t.Errorf("debug output %q, want it to hold %q", debug.String(), want)
		}
		if strings.Contains(debug.String(), secret) || strings.Contains(debug.String(), idxSecret) {
			t.Error("the debug output shows a secret")
		}
	}
	if n := s.srv.CallCount(awsfake.ECRGetAuthorizationToken); n != 2 {
		t.Errorf("%d GetAuthorizationToken calls, want 2 (one per region; then the cache)", n)
	}
	index, err := os.ReadFile(filepath.Join(s.cache, "answers.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(index), idxSecret) || strings.Contains(string(index), "password") {
		t.Error("the index holds a secret")
	}
}

// Anything the recorded answer depended on that changed sends the helper
// down the slow path again: a config edit, a rotated secret file, another
// value of the secret key's variable, a token near its expiry, a daemon
// socket other than the one found down. A registry with an allow list and
// a Basic one never answer from the index (nor does a Basic password reach
// the cache).
func TestIndexFallsBack(t *testing.T) {
	for _, tt := range []struct {
		name   string
		host   string
		change func(t *testing.T, s *indexStage, now *time.Time)
		reason string // in the debug output
	}{
		{"config edited", envHost, func(t *testing.T, s *indexStage, _ *time.Time) {
			data, _ := os.ReadFile(s.cfg)
			writeFile(t, s.cfg, string(data)+"# edited\n")
		}, "config.yaml changed"},
		{"config touched", envHost, func(t *testing.T, s *indexStage, _ *time.Time) {
			if err := os.Chtimes(s.cfg, time.Time{}, time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}, "config.yaml changed"},
		{"secret file rotated", fileHost, func(t *testing.T, s *indexStage, _ *time.Time) { writeFile(t, s.skFile, idxSecret) }, "/sk changed"},
		{"variable changed", envHost, func(t *testing.T, _ *indexStage, _ *time.Time) {
			t.Setenv("OCICRED_HELPER_IDX_SK", "another-secret-key")
		}, "$OCICRED_HELPER_IDX_SK changed"},
		{"token near expiry", envHost, func(_ *testing.T, _ *indexStage, now *time.Time) {
			*now = now.Add(12*time.Hour - 4*time.Minute) // awsfake's tokens last 12 h
		}, "no token with more than 5m0s left"},
		{"OCICRED_SOCKET names another socket", envHost, func(t *testing.T, _ *indexStage, _ *time.Time) {
			t.Setenv("OCICRED_SOCKET", "/run/elsewhere.sock")
		}, "OCICRED_SOCKET names another socket"},
		{"cache folder open to others", envHost, func(t *testing.T, s *indexStage, _ *time.Time) {
			if err := os.Chmod(s.cache, 0o777); err != nil {
				t.Fatal(err)
			}
		}, "is open to other users (mode 0777)"},
		{"allow list", teamHost, func(*testing.T, *indexStage, *time.Time) {}, "none recorded for " + teamHost},
		{"basic", basicHost, func(*testing.T, *indexStage, *time.Time) {}, "none recorded for " + basicHost},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newIndexStage(t)
			now := time.Now()
			var debug bytes.Buffer
			h := s.helper(&debug, func() time.Time { return now })
			if _, _, err, _ := s.get(t, h, envHost); err != nil { // an index exists
				t.Fatalf("get %s: %v", envHost, err)
			}
			_, firstSecret, err, _ := s.get(t, h, tt.host)
			if err != nil {
				t.Fatalf("first get: %v", err)
			}
			tt.change(t, s, &now)
			debug.Reset()
			user, secret, _, slow := s.get(t, h, tt.host)
			if !slow {
				t.Errorf("answered from the index (%q) after the change", user)
			}
			if !strings.Contains(debug.String(), tt.reason) {
				t.Errorf("debug output %q, want it to hold %q", debug.String(), tt.reason)
			}
			if tt.name == "variable changed" && secret == firstSecret {
				t.Error("another secret key got the old identity's token")
			}
			for _, leak := range []string{firstSecret, idxSecret, basicPass} {
				if strings.Contains(debug.String(), leak) {
					t.Error("the debug output shows a secret")
				}
			}
			files, _ := filepath.Glob(filepath.Join(s.cache, "*"))
			for _, f := range files {
				if data, _ := os.ReadFile(f); strings.Contains(string(data), basicPass) || strings.Contains(string(data), idxSecret) {
					t.Errorf("%s holds a Basic password or the secret key", filepath.Base(f))
				}
			}
		})
	}
}
