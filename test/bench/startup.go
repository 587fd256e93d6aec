package bench

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/ocicred/ocicred/test/awsfake"
)

// StartupResult is what a real `ocicred daemon` did at start with a fleet
// config, against awsfake.
type StartupResult struct {
	Fleet Fleet
	// Calls is every GetAuthorizationToken made until status said every
	// registry was ready (counted then, not when the process stopped);
	// Pairs the distinct (access key id, region) pairs among them.
	Calls, Pairs int
	// Ready is the time from starting the process until its status showed
	// every registry ready.
	Ready time.Duration
}

// MeasureStartup starts the daemon binary on the fleet's config with
// awsfake behind it, waits until every registry is ready, and counts the
// AWS calls. It cross-checks SimulateRefresh with the real program and the
// real AWS SDK.
func MeasureStartup(ctx context.Context, bin Binaries, fleet Fleet) (StartupResult, error) {
	dir, err := os.MkdirTemp("", "ocbench-fleet-")
	if err != nil {
		return StartupResult{}, err
	}
	defer os.RemoveAll(dir)
	cfg := filepath.Join(dir, "fleet.yaml")
	if err := os.WriteFile(cfg, []byte(fleet.Config()), 0o600); err != nil {
		return StartupResult{}, err
	}
	keys := make([]awsfake.Option, fleet.Identities)
	for i := range keys {
		keys[i] = awsfake.WithKey(accessKeyID(i), benchSecretKey)
	}
	fake, err := awsfake.New(keys...)
	if err != nil {
		return StartupResult{}, err
	}
	defer fake.Close()
	env := append([]string{"PATH=/usr/bin:/bin", "HOME=" + dir, "OCICRED_CACHE_DIR=" + filepath.Join(dir, "cache")}, fake.Env()...)
	r := StartupResult{Fleet: fleet}
	var atReady []awsfake.Call
	start := time.Now()
	proc, err := startDaemon(ctx, bin, env, cfg, filepath.Join(dir, "s.sock"), func() {
		r.Ready = time.Since(start)
		atReady = fake.Calls()
	})
	if err != nil {
		return StartupResult{}, err
	}
	stopErr := proc.Stop(10 * time.Second)
	pairs := map[string]bool{}
	for _, c := range atReady {
		if c.Service == "ecr" && c.Action == "GetAuthorizationToken" {
			r.Calls++
			pairs[c.AccessKeyID+"/"+c.Region] = true
		}
	}
	r.Pairs = len(pairs)
	return r, stopErr
}
