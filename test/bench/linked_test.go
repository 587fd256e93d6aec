package bench

import (
	"context"
	"testing"
)

// BenchmarkLinkedRSS is what the libraries in ocicred's binary cost a
// process at rest, before any work, beside the daemon with no registry:
// the floor under the daemon's resident memory.
func BenchmarkLinkedRSS(b *testing.B) {
	bin := binaries(b)
	var rs []LinkedRSS
	for b.Loop() {
		var err error
		if rs, err = MeasureLinked(context.Background(), b.TempDir(), bin.Ocicred); err != nil {
			b.Fatal(err)
		}
	}
	for i, r := range rs {
		b.ReportMetric(float64(r.RSS)/(1<<20), "rss-MiB-"+string(rune('a'+i)))
	}
	record(func(f *Figures) { f.Linked = rs })
}
