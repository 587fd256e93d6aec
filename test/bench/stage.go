package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ocicred/ocicred/internal/localapi"
	"github.com/ocicred/ocicred/test/awsfake"
	"github.com/ocicred/ocicred/test/e2e/subproc"
)

// Server is the address `get` asks for: the one protected ECR registry of
// the stage's config. Nothing listens there; only its token matters.
const Server = "127.0.0.1:5999"

// stageKeyID is the access key id of the stage's registry.
const stageKeyID = "AKIAIOSFODNN7EXAMPLE"

// Stage is a real `ocicred daemon` serving one protected ECR registry whose
// token comes from awsfake (12 h tokens, as on ECR), in a private folder;
// or, made by StartDaemonlessStage, the same folder and config with no
// daemon at all.
type Stage struct {
	Bin    Binaries
	Fake   *awsfake.Server
	Root   string
	Config string
	Socket string

	daemon *subproc.Proc
}

// StartStage starts awsfake and the daemon, and returns once the daemon
// answers with a token.
func StartStage(ctx context.Context, bin Binaries) (*Stage, error) {
	s, err := newStage(bin)
	if err != nil {
		return nil, err
	}
	if s.daemon, err = startDaemon(ctx, bin, s.Env(), s.Config, s.Socket, nil); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// StartDaemonlessStage is a stage whose daemon never runs: its socket path
// is never listened on, and its token cache is its own, empty until a
// daemon-less `ocicred get` fills it.
func StartDaemonlessStage(bin Binaries) (*Stage, error) { return newStage(bin) }

// newStage starts awsfake and writes the config, in a new folder.
func newStage(bin Binaries) (*Stage, error) {
	root, err := os.MkdirTemp("", "ocbench-")
	if err != nil {
		return nil, err
	}
	fake, err := awsfake.New(awsfake.WithKey(stageKeyID, benchSecretKey))
	if err != nil {
		_ = os.RemoveAll(root)
		return nil, err
	}
	s := &Stage{Bin: bin, Fake: fake, Root: root,
		Config: filepath.Join(root, "config.yaml"), Socket: filepath.Join(root, "s.sock")}
	cfg := fmt.Sprintf(`registries:
  - name: prod
    type: ecr
    endpoint: http://%s
    region: us-west-2
    credentials: {type: secret, accessKeyId: %s, secretAccessKeyEnv: OCICRED_BENCH_SK}
`, Server, stageKeyID)
	if err := os.WriteFile(s.Config, []byte(cfg), 0o600); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Env is the complete environment of every process the stage runs: the
// daemon's socket and config, a private HOME and token cache, awsfake's
// endpoints, and the secret key the config names.
func (s *Stage) Env() []string {
	return append([]string{
		"PATH=" + s.Bin.Dir + ":/usr/bin:/bin",
		"HOME=" + s.Root,
		"OCICRED_CONFIG=" + s.Config,
		"OCICRED_SOCKET=" + s.Socket,
		"OCICRED_CACHE_DIR=" + filepath.Join(s.Root, "cache"),
		"OCICRED_BENCH_SK=" + benchSecretKey,
	}, s.Fake.Env()...)
}

// Close stops the daemon and the fake and removes the folder.
func (s *Stage) Close() error {
	var err error
	if s.daemon != nil {
		err = s.daemon.Stop(10 * time.Second)
		if errors.Is(err, subproc.ErrExited) {
			err = nil
		}
	}
	s.Fake.Close()
	_ = os.RemoveAll(s.Root)
	return err
}

// startDaemon runs `ocicred daemon` and waits until every protected ECR
// registry of its config is ready; onReady, when set, runs at once when the
// status that says so comes back.
func startDaemon(ctx context.Context, bin Binaries, env []string, config, socket string, onReady func()) (*subproc.Proc, error) {
	cmd := exec.Command(bin.Ocicred, "daemon", "--config", config, "--socket", socket)
	cmd.Env = env
	proc, err := subproc.Start(cmd)
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, proc, socket, 30*time.Second, onReady); err != nil {
		_ = proc.Kill()
		return nil, fmt.Errorf("%w\n%s", err, proc.Output())
	}
	return proc, nil
}

// waitReady polls the daemon's status until every protected ECR registry
// is ready, then runs onReady (when set). The daemon says nothing when it
// gets there: polling its status is how its clients see it too.
func waitReady(ctx context.Context, proc *subproc.Proc, socket string, timeout time.Duration, onReady func()) error {
	client := localapi.NewClient(socket)
	deadline := time.Now().Add(timeout)
	for {
		st, err := client.Status(ctx)
		if err == nil && allReady(st) {
			if onReady != nil {
				onReady()
			}
			return nil
		}
		select {
		case <-proc.Done():
			return fmt.Errorf("ocicred daemon exited: %v", proc.Err())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ocicred daemon not ready within %s: %v", timeout, notReady(st, err))
		}
	}
}

// allReady reports whether the status lists registries and every protected
// ECR registry among them is ready (Basic ones are static, unprotected ECR
// ones anonymous: both are ready from the start).
func allReady(st *localapi.Status) bool {
	for _, r := range st.Registries {
		if r.State != localapi.StateReady && r.State != localapi.StateAnonymous && r.State != localapi.StateStatic {
			return false
		}
	}
	return len(st.Registries) > 0
}

func notReady(st *localapi.Status, err error) string {
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, r := range st.Registries {
		if r.State != localapi.StateReady {
			fmt.Fprintf(&b, "%s %s %s; ", r.Name, r.State, r.LastError)
		}
	}
	return b.String()
}

// callsOf counts the fake's ECR GetAuthorizationToken calls.
func callsOf(fake *awsfake.Server) int { return fake.CallCount(awsfake.ECRGetAuthorizationToken) }
