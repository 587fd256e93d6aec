package bench

import (
	"strings"
	"testing"
	"time"
)

// TestScaleRunsMedians: the report's scale figures are medians over the
// runs, with their range, whatever order the runs came in.
func TestScaleRunsMedians(t *testing.T) {
	const mib = 1 << 20
	runs := ScaleRuns{
		{Fleet: DefaultScale, Ready: 300 * time.Millisecond, Reload: 90 * time.Millisecond, RSS: 52 * mib},
		{Fleet: DefaultScale, Ready: 100 * time.Millisecond, Reload: 300 * time.Millisecond, RSS: 48 * mib},
		{Fleet: DefaultScale, Ready: 200 * time.Millisecond, Reload: 120 * time.Millisecond, RSS: 49 * mib},
	}
	if got := runs.Ready(); got != 200*time.Millisecond {
		t.Errorf("Ready = %v, want the median 200ms", got)
	}
	if got := runs.Reload(); got != 120*time.Millisecond {
		t.Errorf("Reload = %v, want the median 120ms", got)
	}
	if got := runs.RSS(); got != 49*mib {
		t.Errorf("RSS = %v MiB, want the median 49", got/mib)
	}
	lines := strings.Join(runs.Lines(), "\n")
	for _, want := range []string{"10000 registries (9000 Basic, 1000 ECR over 10 identities x 3 regions), medians of 3 runs",
		"all ready after start 200.0ms (100.0–300.0)", "VmRSS 49.0 MiB (48.0–52.0)"} {
		if !strings.Contains(lines, want) {
			t.Errorf("lines lack %q:\n%s", want, lines)
		}
	}
	even := append(runs, ProcessScaleResult{Fleet: DefaultScale, Ready: 400 * time.Millisecond})
	if got := even.Ready(); got != 250*time.Millisecond {
		t.Errorf("Ready of four runs = %v, want 250ms, between the two middle ones", got)
	}
	if got := (ScaleRuns{}).Lines(); got != nil {
		t.Errorf("no runs gave lines %q", got)
	}
}

// TestGoalsTable: each goal is judged from its figure, met or not, and a
// figure not measured leaves its row out.
func TestGoalsTable(t *testing.T) {
	const mib = 1 << 20
	f := &Figures{
		Scale:        ScaleRuns{{Fleet: DefaultScale, Ready: 300 * time.Millisecond, Reload: 150 * time.Millisecond, RSS: 49 * mib}},
		HelperPaired: Paired{Floor: Sample{time.Millisecond}, Program: Sample{1400 * time.Microsecond}},
		API:          &APIResult{Workers: 8, Answers: 15000, Elapsed: time.Second},
	}
	md := f.goalsMarkdown()
	for _, want := range []string{
		"| 49.0 MiB | yes |", "| 300.00ms | yes |", "| 150.00ms | **no** |", "| 1.40x | **no** |", "| 15000 (8 clients sharing the daemon's cores) | **no** |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("goals table lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "daemon down") {
		t.Errorf("a row for a figure not measured:\n%s", md)
	}
	if !strings.Contains(f.Markdown(), "## Goals at scale (issue 15)") {
		t.Error("BENCHMARKS.md would lack the goals")
	}
	if got := (&Figures{}).goalsMarkdown(); got != "" {
		t.Errorf("nothing measured gave %q", got)
	}
}

// TestWakeupLine: every gap's two medians reach the report, in order.
func TestWakeupLine(t *testing.T) {
	got := wakeupLine([]WakeupResult{
		{Gap: 0, Daemon: 137 * time.Microsecond, Bare: 112 * time.Microsecond, Runs: 100},
		{Gap: 50 * time.Millisecond, Daemon: 535 * time.Microsecond, Bare: 441 * time.Microsecond, Runs: 100},
	})
	want := "medians of 100 (the bare server is net/http answering a constant): after 0s idle: daemon 137µs, bare 112µs; after 50ms idle: daemon 535µs, bare 441µs"
	if !strings.HasSuffix(got, want) {
		t.Errorf("wakeupLine = %q, want it to end %q", got, want)
	}
	if wakeupLine(nil) != "" {
		t.Error("a line for nothing measured")
	}
}

// TestLinkedLine: each program's memory, size and resident part reach
// the report.
func TestLinkedLine(t *testing.T) {
	got := linkedLine([]LinkedRSS{{Name: "client-go", RSS: 17 << 20, FileRSS: 14 << 20, SizeMiB: 21.6}})
	if want := "client-go 17.0 MiB (binary 21.6 MiB, 14.0 MiB of it resident)"; !strings.HasSuffix(got, want) {
		t.Errorf("linkedLine = %q, want it to end %q", got, want)
	}
	if linkedLine(nil) != "" {
		t.Error("a line for nothing measured")
	}
}

// TestPairedRatio: the ratio is of the medians, and nothing measured is
// no line and no ratio.
func TestPairedRatio(t *testing.T) {
	ms := time.Millisecond
	p := Paired{Floor: Sample{ms, 2 * ms, 9 * ms}, Program: Sample{3 * ms, 3 * ms, 1 * ms}}
	if got := p.Ratio(); got != 1.5 {
		t.Errorf("Ratio = %v, want 1.5 (3 ms over 2 ms)", got)
	}
	if got, want := p.line("helper get"), "helper get, in turn with the floor: median 3.00ms against 2.00ms over 3 runs each, ratio 1.50x"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
	if (Paired{Floor: Sample{ms}}).Ratio() != 0 || (Paired{}).line("x") != "" {
		t.Error("a ratio or a line for a pair not measured")
	}
}

// TestHelperRatioPrefersPaired: the aim is judged on the runs taken in
// turn when there are some, else on the runs taken one after the other.
func TestHelperRatioPrefersPaired(t *testing.T) {
	ms := time.Millisecond
	f := &Figures{Floor: Sample{ms}, Helper: Sample{2 * ms}}
	if got := f.HelperRatio(); got != 2 || f.HelperAimMet() {
		t.Errorf("one after the other: ratio %v, met %v; want 2, not met", got, f.HelperAimMet())
	}
	f.HelperPaired = Paired{Floor: Sample{ms}, Program: Sample{1200 * time.Microsecond}}
	if got := f.HelperRatio(); got != 1.2 || !f.HelperAimMet() {
		t.Errorf("in turn: ratio %v, met %v; want 1.2, met", got, f.HelperAimMet())
	}
	if (&Figures{}).HelperRatio() != 0 || (&Figures{}).HelperAimMet() {
		t.Error("an aim judged on nothing measured")
	}
}
