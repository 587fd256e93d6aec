package bench

import (
	"context"
	"testing"
)

// minScaleRuns is the fewest runs BenchmarkScaleProcess reports on.
const minScaleRuns = 5

// BenchmarkScaleProcess runs the real daemon on DefaultScale (10,000
// registries) with awsfake behind its ECR registries: start → all ready,
// the process's resident memory then, and a config rename → new password
// served.
func BenchmarkScaleProcess(b *testing.B) {
	bin := binaries(b)
	var runs ScaleRuns
	for b.Loop() {
		r, err := MeasureScaleProcess(context.Background(), bin, DefaultScale)
		if err != nil {
			b.Fatal(err)
		}
		runs = append(runs, r)
	}
	// A median needs runs: at least minScaleRuns, whatever -benchtime
	// gave (about two a second), the extra ones outside the timed loop.
	for len(runs) < minScaleRuns {
		r, err := MeasureScaleProcess(context.Background(), bin, DefaultScale)
		if err != nil {
			b.Fatal(err)
		}
		runs = append(runs, r)
	}
	record(func(f *Figures) { f.Scale = append(f.Scale, runs...) })
	const mib = 1 << 20
	for unit, get := range map[string]func(ProcessScaleResult) float64{ // medians over the runs
		"ready-ms":       func(r ProcessScaleResult) float64 { return float64(r.Ready) / 1e6 },
		"reload-ms":      func(r ProcessScaleResult) float64 { return float64(r.Reload) / 1e6 },
		"rss-MiB":        func(r ProcessScaleResult) float64 { return float64(r.RSS) / mib },
		"anon-MiB":       func(r ProcessScaleResult) float64 { return float64(r.AnonRSS) / mib },
		"reload-rss-MiB": func(r ProcessScaleResult) float64 { return float64(r.ReloadRSS) / mib },
		"hwm-MiB":        func(r ProcessScaleResult) float64 { return float64(r.HWM) / mib },
	} {
		median, _, _ := runs.field(get)
		b.ReportMetric(median, unit)
	}
}
