package bench

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// Sample is a set of measured durations.
type Sample []time.Duration

// Percentile is the nearest-rank p-th percentile (0 < p ≤ 100), 0 for an
// empty sample.
func (s Sample) Percentile(p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	sorted := slices.Clone(s)
	slices.Sort(sorted)
	rank := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// Median is the 50th percentile.
func (s Sample) Median() time.Duration { return s.Percentile(50) }

// Process is one program run as the benchmarks run it: a fresh process with
// this environment, stdin and arguments, as docker runs a helper.
type Process struct {
	Env   []string
	Stdin string
	Path  string
	Args  []string
}

// Run runs the process once and returns its wall time from start to exit
// and its stdout. An exit status other than 0 is an error.
func (p Process) Run(ctx context.Context) (time.Duration, string, error) {
	cmd := exec.CommandContext(ctx, p.Path, p.Args...)
	cmd.Env = p.Env
	cmd.Stdin = strings.NewReader(p.Stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err != nil {
		return took, stdout.String(), fmt.Errorf("%s %s: %w\nstdout: %s\nstderr: %s",
			p.Path, strings.Join(p.Args, " "), err, stdout.String(), stderr.String())
	}
	return took, stdout.String(), nil
}
