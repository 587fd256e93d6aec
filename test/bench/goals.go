package bench

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Issue 15's goals (BENCHMARKS.md, "Goals at scale"): what the figures of
// one run are held to. Nothing asserts them; the report says which are met.
const (
	// ScaleRSSGoal is the daemon's resident memory on DefaultScale, every
	// registry ready, in bytes.
	ScaleRSSGoal = 50 << 20
	// ScaleReadyGoal is from the daemon's start to every registry ready.
	ScaleReadyGoal = 500 * time.Millisecond
	// ScaleReloadGoal is from a config rename to the new password served.
	ScaleReloadGoal = 100 * time.Millisecond
	// HelperGoal bounds a whole helper `get`, daemon up, over the floor.
	HelperGoal = 1.3
	// HelperDownGoal bounds a whole helper `get`, daemon down, over the floor.
	HelperDownGoal = 3.0
	// APIGoal is the daemon API's answers per second, one connection each.
	APIGoal = 20000
)

// ScaleRuns are the runs of BenchmarkScaleProcess, each a real daemon on
// one ScaleFleet.
type ScaleRuns []ProcessScaleResult

// field is the median (of the two middle runs when they are even), least
// and most of one figure over the runs.
func (r ScaleRuns) field(get func(ProcessScaleResult) float64) (median, least, most float64) {
	v := make([]float64, len(r))
	for i, run := range r {
		v[i] = get(run)
	}
	slices.Sort(v)
	return (v[(len(v)-1)/2] + v[len(v)/2]) / 2, v[0], v[len(v)-1]
}

// RSS is the median VmRSS with every registry ready, in bytes.
func (r ScaleRuns) RSS() float64 {
	m, _, _ := r.field(func(p ProcessScaleResult) float64 { return float64(p.RSS) })
	return m
}

// Ready is the median time from start to every registry ready.
func (r ScaleRuns) Ready() time.Duration {
	m, _, _ := r.field(func(p ProcessScaleResult) float64 { return float64(p.Ready) })
	return time.Duration(m)
}

// Reload is the median time from a config rename to the new password served.
func (r ScaleRuns) Reload() time.Duration {
	m, _, _ := r.field(func(p ProcessScaleResult) float64 { return float64(p.Reload) })
	return time.Duration(m)
}

// Lines are the report's lines for the runs: medians with their range.
func (r ScaleRuns) Lines() []string {
	if len(r) == 0 {
		return nil
	}
	const mib = 1 << 20
	span := func(unit string, scale float64, get func(ProcessScaleResult) float64) string {
		m, lo, hi := r.field(get)
		return fmt.Sprintf("%.1f%s (%.1f–%.1f)", m/scale, unit, lo/scale, hi/scale)
	}
	dur := func(d time.Duration) float64 { return float64(d) }
	return []string{
		fmt.Sprintf("real daemon, %s, medians of %d runs (least–most):", r[0].Fleet, len(r)),
		"  all ready after start " + span("ms", 1e6, func(p ProcessScaleResult) float64 { return dur(p.Ready) }) +
			"; rename of a changed config → new password served " + span("ms", 1e6, func(p ProcessScaleResult) float64 { return dur(p.Reload) }),
		"  resident memory, all ready: VmRSS " + span(" MiB", mib, func(p ProcessScaleResult) float64 { return float64(p.RSS) }) +
			", of which RssAnon " + span(" MiB", mib, func(p ProcessScaleResult) float64 { return float64(p.AnonRSS) }) +
			"; VmRSS as the reload is served " + span(" MiB", mib, func(p ProcessScaleResult) float64 { return float64(p.ReloadRSS) }) +
			"; peak (VmHWM) " + span(" MiB", mib, func(p ProcessScaleResult) float64 { return float64(p.HWM) }),
	}
}

// String names the fleet: "10000 registries (9000 Basic, 1000 ECR over 10 identities x 3 regions)".
func (s ScaleFleet) String() string {
	return fmt.Sprintf("%d registries (%d Basic, %d ECR over %d identities x %d regions)",
		s.Basic+s.ECR.Registries, s.Basic, s.ECR.Registries, s.ECR.Identities, len(s.ECR.Regions))
}

// goalsMarkdown is the table of issue 15's goals against this run's
// figures; a goal whose figure was not measured in this run is left out.
func (f *Figures) goalsMarkdown() string {
	var rows []string
	row := func(figure, goal, got string, met bool) {
		rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s |", figure, goal, got, yes(met)))
	}
	if s := f.Scale; len(s) > 0 {
		row("daemon resident memory (VmRSS), "+s[0].Fleet.String()+", all ready", "≤ 50 MiB",
			fmt.Sprintf("%.1f MiB", s.RSS()/(1<<20)), s.RSS() <= ScaleRSSGoal)
		row("start → every registry ready, same config", "≤ 500 ms", ms(s.Ready()), s.Ready() <= ScaleReadyGoal)
		row("config rename → new password served, same config", "≤ 100 ms", ms(s.Reload()), s.Reload() <= ScaleReloadGoal)
	}
	if x := f.HelperPaired.Ratio(); x > 0 {
		row("helper `get`, daemon up / floor (medians, run in turn)", fmt.Sprintf("≤ %.1fx", HelperGoal), fmt.Sprintf("%.2fx", x), x <= HelperGoal)
	}
	if x := f.HelperNoDaemonPaired.Ratio(); x > 0 {
		row("helper `get`, daemon down, cached token / floor (medians, run in turn)", fmt.Sprintf("≤ %.0fx", HelperDownGoal), fmt.Sprintf("%.2fx", x), x <= HelperDownGoal)
	}
	if a := f.API; a != nil {
		got := fmt.Sprintf("%.0f (%d clients sharing the daemon's cores)", a.PerSecond(), a.Workers)
		if a.DaemonCPUPerAnswer > 0 {
			got += fmt.Sprintf("; the daemon's own CPU %.0f µs per answer", float64(a.DaemonCPUPerAnswer)/float64(time.Microsecond))
		}
		row("daemon API answers/s, one connection per answer", "≥ 20,000", got, a.PerSecond() >= APIGoal)
	}
	if len(rows) == 0 {
		return ""
	}
	return "## Goals at scale (issue 15)\n\n| figure | goal | this run | met |\n|---|---|---|---|\n" +
		strings.Join(rows, "\n") + "\n\n"
}
