package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/ocicred/ocicred/daemon"
	"github.com/ocicred/ocicred/internal/localapi"
)

// ScaleFleet is the large node: Basic registries beside an ECR
// fleet (9,000 Basic and 1,000 ECR over 10 identities × 3 regions).
type ScaleFleet struct {
	Basic int
	ECR   Fleet
}

// DefaultScale is the 10,000-registry config of the profiles in
// BENCHMARKS.md.
var DefaultScale = ScaleFleet{Basic: 9000, ECR: DefaultFleet}

// Config renders the ECR fleet followed by the Basic registries, whose
// passwords end with password (change it to see a reload served).
func (s ScaleFleet) Config(password string) string {
	var b strings.Builder
	b.WriteString(s.ECR.Config())
	for i := range s.Basic {
		fmt.Fprintf(&b, "  - name: basic-%05d\n    type: basic\n    endpoint: registry-%05d.example.com\n"+
			"    username: robot\n    password: pw-%05d-%s\n", i, i, i, password)
	}
	return b.String()
}

// ScaleResult is what the in-process daemon did on a ScaleFleet.
type ScaleResult struct {
	Fleet ScaleFleet
	// Ready is from Run until status shows every registry ready; Reload
	// from the rename of a changed config until the last Basic registry
	// answers with its new password.
	Ready, Reload time.Duration
	// HeapInuse is the Go heap in use after a GC, every registry ready.
	HeapInuse uint64
}

// MeasureScale runs package daemon in-process on the fleet's config, with
// instant fake tokens (the countingAWS of SimulateRefresh on the real
// clock), waits for every registry to be ready, takes the heap, then
// renames a config with new passwords over the old one and waits until
// the new password is served. dir holds the files (keep its path short).
// atReady, when set, runs once every registry is ready, after the GC (a
// heap profile taken there shows what the daemon keeps).
func MeasureScale(ctx context.Context, dir string, fleet ScaleFleet, atReady func()) (ScaleResult, error) {
	r := ScaleResult{Fleet: fleet}
	cfgPath := filepath.Join(dir, "scale.yaml")
	if err := os.WriteFile(cfgPath, []byte(fleet.Config("a")), 0o600); err != nil {
		return r, err
	}
	aws := &countingAWS{clock: wallClock{}, lifetime: 12 * time.Hour, calls: map[string][]time.Time{}}
	sock := filepath.Join(dir, "s.sock")
	d := daemon.New(daemon.Options{
		ConfigPath: cfgPath, Socket: sock, Debounce: 10 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler), Fetch: aws.fetch,
	})
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	client := localapi.NewClient(sock)
	if err := poll(ctx, done, func() bool {
		st, err := client.Status(ctx)
		return err == nil && allReady(st)
	}); err != nil {
		return r, fmt.Errorf("ready: %w", err)
	}
	r.Ready = time.Since(start)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.HeapInuse = ms.HeapInuse
	if atReady != nil {
		atReady()
	}

	next := filepath.Join(dir, "next.yaml")
	if err := os.WriteFile(next, []byte(fleet.Config("b")), 0o600); err != nil {
		return r, err
	}
	last := fmt.Sprintf("registry-%05d.example.com", fleet.Basic-1)
	want := fmt.Sprintf("pw-%05d-b", fleet.Basic-1)
	start = time.Now()
	if err := os.Rename(next, cfgPath); err != nil {
		return r, err
	}
	if err := poll(ctx, done, func() bool {
		got, err := client.Credentials(ctx, last)
		return err == nil && got.Secret == want
	}); err != nil {
		return r, fmt.Errorf("reload: %w", err)
	}
	r.Reload = time.Since(start)
	return r, nil
}

// poll calls ok every millisecond until it is true, for at most 30 s.
func poll(ctx context.Context, done <-chan error, ok func() bool) error {
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		select {
		case err := <-done:
			return fmt.Errorf("daemon stopped: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within 30 s")
		}
	}
	return nil
}

// wallClock is the real clock for countingAWS.
type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }
