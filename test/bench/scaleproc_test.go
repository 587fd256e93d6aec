package bench

import (
	"context"
	"testing"
)

// BenchmarkScaleProcess runs the real daemon on DefaultScale (10,000
// registries) with awsfake behind its ECR registries: start → all ready,
// the process's resident memory then, and a config rename → new password
// served.
func BenchmarkScaleProcess(b *testing.B) {
	bin := binaries(b)
	var r ProcessScaleResult
	for b.Loop() {
		var err error
		if r, err = MeasureScaleProcess(context.Background(), bin, DefaultScale); err != nil {
			b.Fatal(err)
		}
	}
	const mib = 1 << 20
	b.ReportMetric(float64(r.Ready)/1e6, "ready-ms")
	b.ReportMetric(float64(r.Reload)/1e6, "reload-ms")
	b.ReportMetric(float64(r.RSS)/mib, "rss-MiB")
	b.ReportMetric(float64(r.AnonRSS)/mib, "anon-MiB")
	b.ReportMetric(float64(r.ReloadRSS)/mib, "reload-rss-MiB")
	b.ReportMetric(float64(r.HWM)/mib, "hwm-MiB")
}
