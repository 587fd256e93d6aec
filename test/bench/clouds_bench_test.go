package bench

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkGetECRLogin runs Amazon's docker-credential-ecr-login v0.12.0
// (built from the Go module proxy with BuildFlags) as whole processes
// against the stage's awsfake, its cache in its own folder, warmed by the
// untimed first run: the warm `get` issue 15 compares with the helper's
// and the floor's of BenchmarkGet, in the same run. When it cannot be
// built, the benchmark is skipped and the report says why.
func BenchmarkGetECRLogin(b *testing.B) {
	st := theStage(b)
	path, err := BuildECRLogin(context.Background(), st.Bin.Dir)
	if err != nil {
		record(func(f *Figures) { f.ECRLoginSkipped = err.Error() })
		b.Skipf("docker-credential-ecr-login not built, no figure: %v", err)
	}
	cache := filepath.Join(st.Root, "ecr-login-cache")
	if err := os.MkdirAll(cache, 0o700); err != nil {
		b.Fatal(err)
	}
	p := Process{Env: ECRLoginEnv(st, cache), Stdin: ECRLoginServer, Path: path, Args: []string{"get"}}
	before := callsOf(st.Fake)
	s := measure(b, st, p, `"Username":"AWS"`)
	if n := callsOf(st.Fake) - before; n != 1 {
		b.Errorf("docker-credential-ecr-login made %d GetAuthorizationToken calls at awsfake, want 1 (the untimed run that fills its cache)", n)
	}
	record(func(f *Figures) { f.ECRLogin, f.ECRLoginMiB = s, sizeMiB(path) })
}

// BenchmarkCloudTokens starts the real daemon on DefaultMixed (40 ECR, 30
// GAR, 30 ACR registries) with awsfake, gcpfake and azfake behind it,
// lifetimes divided by TimeScale, and counts the token requests per cloud
// and identity at start and over ScaledWindow. It takes about 100 s.
func BenchmarkCloudTokens(b *testing.B) {
	bin := binaries(b)
	var r CloudTokensResult
	for b.Loop() {
		var err error
		if r, err = MeasureCloudTokens(context.Background(), bin, DefaultMixed); err != nil {
			b.Fatal(err)
		}
	}
	start, perHour := 0, 0.0
	for _, c := range r.Counts {
		start, perHour = start+c.Start, perHour+c.PerHour
	}
	b.ReportMetric(float64(start), "start-requests")
	b.ReportMetric(perHour, "requests/h")
	b.ReportMetric(float64(r.Ready)/1e6, "ready-ms")
	record(func(f *Figures) { f.Clouds = &r })
}
