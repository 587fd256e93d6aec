package bench

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocicred/ocicred/internal/localapi"
)

// OutEnv names the file the figures are written to as Markdown; a relative
// path is taken from the module root (OCICRED_BENCH_OUT=BENCHMARKS.md make
// bench). Unset, the figures are only printed.
const OutEnv = "OCICRED_BENCH_OUT"

// HandWrittenMarker starts the part of BENCHMARKS.md that is written by
// hand (figures measured by other means: the Kubernetes controller, the
// profiles); the report keeps everything from it on.
const HandWrittenMarker = "<!-- hand-written sections below: OCICRED_BENCH_OUT keeps them as they are -->\n"

// apiWorkers is how many clients ask the daemon at once.
const apiWorkers = 8

var (
	binOnce sync.Once
	bin     Binaries
	binErr  error

	stageOnce sync.Once
	stage     *Stage
	stageErr  error

	mu       sync.Mutex
	figures  Figures
	measured bool
)

// TestMain runs the benchmarks, stops what they started, and prints the
// figures (and writes them to $OCICRED_BENCH_OUT) when any were measured.
func TestMain(m *testing.M) {
	code := m.Run()
	if stage != nil {
		if err := stage.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "bench: stop the daemon: %v\n", err)
			code = max(code, 1)
		}
	}
	if bin.Dir != "" {
		_ = os.RemoveAll(bin.Dir)
	}
	if code == 0 && measured {
		if err := report(); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

func report() error {
	figures.Machine = ThisMachine()
	fmt.Println("--- figures")
	for _, l := range figures.Lines() {
		fmt.Println(l)
	}
	out := os.Getenv(OutEnv)
	if out == "" {
		return nil
	}
	root, err := moduleRoot(context.Background())
	if err != nil {
		return err
	}
	if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	// Figures in the repository say which commit they measure: never
	// those of an uncommitted tree (the report's own file apart).
	rel, _ := filepath.Rel(root, out)
	if dirty := figures.Machine.DirtyExcept(rel); len(dirty) > 0 {
		return fmt.Errorf("not writing %s: the tree differs from commit %s (%s); commit, then run the benchmarks again",
			out, figures.Machine.Commit, strings.Join(dirty, "; "))
	}
	report := figures.Markdown()
	if old, err := os.ReadFile(out); err == nil { // the hand-written sections stay
		if _, kept, ok := strings.Cut(string(old), HandWrittenMarker); ok {
			report += "\n" + HandWrittenMarker + kept
		}
	}
	if err := os.WriteFile(out, []byte(report), 0o644); err != nil {
		return err
	}
	fmt.Println("written to", out)
	return nil
}

// record stores a figure for the report.
func record(set func(f *Figures)) {
	mu.Lock()
	defer mu.Unlock()
	set(&figures)
	measured = true
}

func binaries(b *testing.B) Binaries {
	b.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ocbench-bin-")
		if err != nil {
			binErr = err
			return
		}
		bin, binErr = Build(context.Background(), dir)
		bin.Dir = dir
		if binErr == nil {
			record(func(f *Figures) {
				f.HelperMiB, f.OcicredMiB, f.FloorMiB = sizeMiB(bin.Helper), sizeMiB(bin.Ocicred), sizeMiB(bin.Hello)
			})
		}
	})
	if binErr != nil {
		b.Fatalf("build the programs: %v", binErr)
	}
	return bin
}

func theStage(b *testing.B) *Stage {
	b.Helper()
	bin := binaries(b)
	stageOnce.Do(func() { stage, stageErr = StartStage(context.Background(), bin) })
	if stageErr != nil {
		b.Fatalf("start the daemon: %v", stageErr)
	}
	return stage
}

// BenchmarkGetDaemonDown runs the daemon-less answers as whole processes,
// with no daemon at all: its stage never starts one, and it runs before
// BenchmarkGet starts the other stage's (it is first in this file, and go
// test runs benchmarks in file order). `helper` is the helper's own
// daemon-down path: it finds no socket and answers from the token cache's
// index without running `ocicred get` (the untimed first run runs it, and
// it records the answer there); `ocicred` is `ocicred get --no-daemon`.
// The untimed first run fills the stage's own cache with one AWS call; the
// timed runs make none.
func BenchmarkGetDaemonDown(b *testing.B) {
	if stage != nil {
		b.Fatal("a daemon runs: the daemon-down figures must run before BenchmarkGet starts it")
	}
	down, err := StartDaemonlessStage(binaries(b))
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := down.Close(); err != nil {
			b.Error(err)
		}
	}()
	if _, err := os.Stat(down.Socket); !errors.Is(err, fs.ErrNotExist) {
		b.Fatalf("the daemon-less stage has a socket file %s (%v)", down.Socket, err)
	}
	cases := []struct {
		name string
		p    Process
		into func(f *Figures) *Sample
	}{
		{"helper", Process{Env: down.Env(), Stdin: Server, Path: down.Bin.Helper, Args: []string{"get"}},
			func(f *Figures) *Sample { return &f.HelperNoDaemon }},
		{"ocicred-no-daemon", Process{Env: down.Env(), Path: down.Bin.Ocicred, Args: []string{"get", "--no-daemon", Server}},
			func(f *Figures) *Sample { return &f.OcicredNoDaemon }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			s := measure(b, down, c.p, `"Username":"AWS"`)
			record(func(f *Figures) { *c.into(f) = s })
		})
	}
	b.Run("helper-paired", func(b *testing.B) {
		hello := Process{Env: down.Env(), Stdin: Server, Path: down.Bin.Hello}
		floor, helper := measurePaired(b, down, hello, "hello", cases[0].p, `"Username":"AWS"`)
		record(func(f *Figures) { f.HelperNoDaemonPaired = Paired{Floor: floor, Program: helper} })
	})
	if n := callsOf(down.Fake); n != 1 {
		b.Errorf("%d GetAuthorizationToken calls without a daemon, want 1 (the first run; then the cache)", n)
	}
}

// BenchmarkGet runs whole processes: the floor, the helper and `ocicred
// get` with the daemon up, and the helper's start-up alone (`version`, no
// socket).
func BenchmarkGet(b *testing.B) {
	st := theStage(b)
	cases := []struct {
		name string
		p    Process
		want string // in stdout
		into func(f *Figures) *Sample
	}{
		{"floor", Process{Env: st.Env(), Stdin: Server, Path: st.Bin.Hello}, "hello",
			func(f *Figures) *Sample { return &f.Floor }},
		{"helper", Process{Env: st.Env(), Stdin: Server, Path: st.Bin.Helper, Args: []string{"get"}}, `"Username":"AWS"`,
			func(f *Figures) *Sample { return &f.Helper }},
		{"helper-version", Process{Env: st.Env(), Path: st.Bin.Helper, Args: []string{"version"}}, "docker-credential-ocicred",
			func(f *Figures) *Sample { return &f.HelperVersion }},
		{"ocicred", Process{Env: st.Env(), Path: st.Bin.Ocicred, Args: []string{"get", Server}}, `"Username":"AWS"`,
			func(f *Figures) *Sample { return &f.Ocicred }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			s := measure(b, st, c.p, c.want)
			record(func(f *Figures) { *c.into(f) = s })
		})
	}
	b.Run("helper-paired", func(b *testing.B) {
		floor, helper := measurePaired(b, st, cases[0].p, "hello", cases[1].p, cases[1].want)
		record(func(f *Figures) { f.HelperPaired = Paired{Floor: floor, Program: helper} })
	})
}

// measurePaired is measure for two processes run in turn, each iteration
// one run of each, their order swapped every other iteration: a floor and
// the program held to it see the same machine, where one after the other
// they see it minutes apart (the floor's median moved by a third between
// two such runs here).
func measurePaired(b *testing.B, st *Stage, floor Process, floorWant string, p Process, want string) (Sample, Sample) {
	ctx := context.Background()
	for _, c := range []struct {
		p    Process
		want string
	}{{floor, floorWant}, {p, want}} {
		if _, out, err := c.p.Run(ctx); err != nil || !strings.Contains(out, c.want) {
			b.Fatalf("untimed run: %v; stdout %q, want %q in it", err, out, c.want)
		}
	}
	calls := callsOf(st.Fake)
	var fs, ps Sample
	i := 0
	for b.Loop() {
		order := []*Sample{&fs, &ps}
		procs := []Process{floor, p}
		if i%2 == 1 {
			order[0], order[1], procs[0], procs[1] = order[1], order[0], procs[1], procs[0]
		}
		i++
		for j, proc := range procs {
			took, _, err := proc.Run(ctx)
			if err != nil {
				b.Fatal(err)
			}
			*order[j] = append(*order[j], took)
		}
	}
	if n := callsOf(st.Fake) - calls; n != 0 {
		b.Errorf("%d GetAuthorizationToken calls during the timed runs, want none (daemon or cache)", n)
	}
	b.ReportMetric(float64(fs.Median())/1e6, "floor-p50-ms")
	b.ReportMetric(float64(ps.Median())/1e6, "p50-ms")
	b.ReportMetric(ratio(ps.Median(), fs.Median()), "x-floor")
	return fs, ps
}

// measure runs p once untimed (page cache, token cache) and checks its
// answer, then once per iteration; it reports the median and p95. Any AWS
// call during the timed runs is an error: the figure would not be what it
// says.
func measure(b *testing.B, st *Stage, p Process, want string) Sample {
	ctx := context.Background()
	if _, out, err := p.Run(ctx); err != nil || !strings.Contains(out, want) {
		b.Fatalf("untimed run: %v; stdout %q, want %q in it", err, out, want)
	}
	calls := callsOf(st.Fake)
	var s Sample
	for b.Loop() {
		took, _, err := p.Run(ctx)
		if err != nil {
			b.Fatal(err)
		}
		s = append(s, took)
	}
	if n := callsOf(st.Fake) - calls; n != 0 {
		b.Errorf("%d GetAuthorizationToken calls during the timed runs, want none (daemon or cache)", n)
	}
	b.ReportMetric(float64(s.Median())/1e6, "p50-ms")
	b.ReportMetric(float64(s.Percentile(95))/1e6, "p95-ms")
	return s
}

// BenchmarkDaemonAPI asks the real daemon for credentials from apiWorkers
// concurrent clients, as many helpers at once would.
func BenchmarkDaemonAPI(b *testing.B) {
	st := theStage(b)
	client := localapi.NewClient(st.Socket)
	ctx := context.Background()
	par := (apiWorkers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0)
	b.SetParallelism(par)
	cpuBefore, cpuErr := procCPU(st.daemon.Pid())
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			got, err := client.Credentials(ctx, Server)
			if err != nil || got.Username != "AWS" || got.Secret == "" {
				b.Errorf("credentials: %v (username %q)", err, got.Username)
				return
			}
		}
	})
	res := APIResult{Workers: par * runtime.GOMAXPROCS(0), Answers: b.N, Elapsed: b.Elapsed()}
	b.ReportMetric(res.PerSecond(), "answers/s")
	// The daemon's own CPU per answer: what it could answer per second
	// and core were its clients elsewhere (here they share its cores).
	if cpuAfter, err := procCPU(st.daemon.Pid()); cpuErr == nil && err == nil {
		res.DaemonCPUPerAnswer = (cpuAfter - cpuBefore) / time.Duration(b.N)
		b.ReportMetric(float64(cpuAfter-cpuBefore)/float64(time.Microsecond)/float64(b.N), "daemon-cpu-µs/answer")
	}
	record(func(f *Figures) { f.API = &res })
}

// BenchmarkRefreshCalls counts the daemon's GetAuthorizationToken calls
// for DefaultFleet over three days of 12 h tokens, on a simulated clock.
func BenchmarkRefreshCalls(b *testing.B) {
	var r RefreshResult
	for b.Loop() {
		dir, err := os.MkdirTemp("", "ocsim-")
		if err != nil {
			b.Fatal(err)
		}
		r, err = SimulateRefresh(context.Background(), dir, DefaultFleet, 12*time.Hour, 72*time.Hour)
		_ = os.RemoveAll(dir)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(r.SteadyPerHour, "calls/h")
	b.ReportMetric(float64(r.StartCalls), "start-calls")
	b.ReportMetric(float64(r.Loops), "loops")
	record(func(f *Figures) { f.Refresh = &r })
}

// BenchmarkStartupCalls starts the real daemon on DefaultFleet's config
// with awsfake and counts its calls until every registry is ready.
func BenchmarkStartupCalls(b *testing.B) {
	bin := binaries(b)
	var r StartupResult
	for b.Loop() {
		var err error
		if r, err = MeasureStartup(context.Background(), bin, DefaultFleet); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(r.Calls), "calls")
	b.ReportMetric(float64(r.Ready)/1e6, "ready-ms")
	record(func(f *Figures) { f.Startup = &r })
}

// BenchmarkScale runs the daemon in-process on DefaultScale (10,000
// registries) with instant fake tokens: start → all ready, the heap, and a
// config rename → new password served. With -cpuprofile and -memprofile
// it gives the profiles of BENCHMARKS.md's "Profiles".
func BenchmarkScale(b *testing.B) {
	var r ScaleResult
	for b.Loop() {
		dir, err := os.MkdirTemp("", "ocscale-")
		if err != nil {
			b.Fatal(err)
		}
		r, err = MeasureScale(context.Background(), dir, DefaultScale, writeHeapProfile(b))
		_ = os.RemoveAll(dir)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(r.Ready)/1e6, "ready-ms")
	b.ReportMetric(float64(r.Reload)/1e6, "reload-ms")
	b.ReportMetric(float64(r.HeapInuse)/(1<<20), "heap-MiB")
}

// writeHeapProfile writes the heap profile to $OCICRED_BENCH_HEAPPROFILE
// when it is set.
func writeHeapProfile(b *testing.B) func() {
	path := os.Getenv("OCICRED_BENCH_HEAPPROFILE")
	if path == "" {
		return nil
	}
	return func() {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.WriteHeapProfile(f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWakeup times one answer over the socket after an idle gap, from
// the real daemon and from the bare net/http server beside it: what part
// of the helper's time over the floor is the daemon's work, and what part
// is waking two idle processes.
func BenchmarkWakeup(b *testing.B) {
	st := theStage(b)
	dir := b.TempDir()
	bare, err := StartBare(context.Background(), dir, filepath.Join(dir, "bare.sock"))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = bare.Kill() }()
	var rs []WakeupResult
	for b.Loop() {
		if rs, err = MeasureWakeup(context.Background(), st.Socket, filepath.Join(dir, "bare.sock"), Server, 100); err != nil {
			b.Fatal(err)
		}
	}
	for _, r := range rs {
		b.ReportMetric(float64(r.Daemon.Microseconds()), fmt.Sprintf("daemon-µs-%s", r.Gap))
		b.ReportMetric(float64(r.Bare.Microseconds()), fmt.Sprintf("bare-µs-%s", r.Gap))
	}
	record(func(f *Figures) { f.Wakeup = rs })
}
