package bench

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var s Sample
	for i := 1; i <= 100; i++ {
		s = append(s, time.Duration(101-i)*time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{50: 50 * time.Millisecond, 95: 95 * time.Millisecond, 100: 100 * time.Millisecond, 1: time.Millisecond} {
		if got := s.Percentile(p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
	if got := (Sample{}).Median(); got != 0 {
		t.Errorf("median of nothing = %v", got)
	}
}

func TestFleetConfigCoversEveryPair(t *testing.T) {
	cfg := DefaultFleet.Config()
	if n := strings.Count(cfg, "- name: reg-"); n != 1000 {
		t.Errorf("%d registries, want 1000", n)
	}
	for i := range DefaultFleet.Identities {
		for _, region := range DefaultFleet.Regions {
			found := false
			for _, block := range strings.Split(cfg, "  - name: ")[1:] {
				if strings.Contains(block, "."+region+".") && strings.Contains(block, accessKeyID(i)) {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("no registry for %s in %s", accessKeyID(i), region)
			}
		}
	}
}

// TestSimulateRefresh runs the simulation on a small fleet: the harness
// must see one loop and one start-up call per pair, and refreshes no
// closer than 40% of the lifetime.
func TestSimulateRefresh(t *testing.T) {
	dir, err := os.MkdirTemp("", "ocsim-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	fleet := Fleet{Registries: 40, Identities: 2, Regions: []string{"us-east-1", "eu-west-1"}}
	r, err := SimulateRefresh(context.Background(), dir, fleet, 12*time.Hour, 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if r.Loops != 4 || r.StartCalls != 4 || !r.CallsAimMet() {
		t.Errorf("%+v: want 4 loops, 4 start-up calls, the aim met", r)
	}
	// About two refreshes per pair per 12 h, over the last 36 h.
	if r.SteadyCalls < 4*5 || r.SteadyCalls > 4*8 {
		t.Errorf("%d calls after the first lifetime for 4 pairs over 36 h, want about 24", r.SteadyCalls)
	}
}

// The report's own file does not make a tree dirty; anything else does.
func TestDirtyExcept(t *testing.T) {
	m := Machine{Dirty: []string{"M BENCHMARKS.md", "M test/bench/report.go", "MM docs/x.md"}}
	got := m.DirtyExcept("BENCHMARKS.md")
	if len(got) != 2 || got[0] != "M test/bench/report.go" || got[1] != "MM docs/x.md" {
		t.Errorf("DirtyExcept = %q", got)
	}
	if got := (Machine{Dirty: []string{"M BENCHMARKS.md"}}).DirtyExcept("BENCHMARKS.md"); len(got) != 0 {
		t.Errorf("only the report changed: DirtyExcept = %q", got)
	}
}
