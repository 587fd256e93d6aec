package bench

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Aims the figures are held to (BENCHMARKS.md says whether they are met).
const (
	// HelperAim: a whole helper `get` within this factor of the floor.
	HelperAim = 1.5
	// CallsPerRefreshAim: AWS calls per (identity, region) per refresh.
	CallsPerRefreshAim = 1
)

// Figures are the results of one benchmark run. A nil or empty field was
// not measured (e.g. `-bench Get` alone).
type Figures struct {
	Machine Machine
	// Whole-process latencies.
	Floor, Helper, HelperVersion, Ocicred Sample
	// The same with no daemon at all (BenchmarkGetDaemonDown).
	HelperNoDaemon, OcicredNoDaemon Sample
	// The helper's get, daemon up and down, run in turn with the floor
	// (measurePaired): the ratios the goals are judged on.
	HelperPaired, HelperNoDaemonPaired Paired
	// Sizes of the three programs, MiB.
	HelperMiB, OcicredMiB, FloorMiB float64
	API                             *APIResult
	Refresh                         *RefreshResult
	Startup                         *StartupResult
	// ECRLogin is docker-credential-ecr-login's warm `get`
	// (BenchmarkGetECRLogin), ECRLoginMiB its size; ECRLoginSkipped why
	// it was not measured, when it could not be built.
	ECRLogin        Sample
	ECRLoginMiB     float64
	ECRLoginSkipped string
	// Clouds is BenchmarkCloudTokens's count of token requests.
	Clouds *CloudTokensResult
	// Scale are BenchmarkScaleProcess's runs.
	Scale ScaleRuns
	// Wakeup is BenchmarkWakeup's round trips after idle gaps.
	Wakeup []WakeupResult
	// Linked is BenchmarkLinkedRSS's programs at rest.
	Linked []LinkedRSS
}

// Paired are two processes' runs taken in turn: the floor's and a
// program's.
type Paired struct{ Floor, Program Sample }

// Ratio is the program's median over the floor's; 0 when not measured.
func (p Paired) Ratio() float64 {
	if len(p.Floor) == 0 || len(p.Program) == 0 {
		return 0
	}
	return ratio(p.Program.Median(), p.Floor.Median())
}

// line is the report's line for the pair, named name; "" when not measured.
func (p Paired) line(name string) string {
	if p.Ratio() == 0 {
		return ""
	}
	return fmt.Sprintf("%s, in turn with the floor: median %s against %s over %d runs each, ratio %.2fx",
		name, ms(p.Program.Median()), ms(p.Floor.Median()), len(p.Program), p.Ratio())
}

// APIResult is the daemon API's throughput.
type APIResult struct {
	Workers int
	Answers int
	Elapsed time.Duration
	// DaemonCPUPerAnswer is the daemon process's CPU time (user and
	// system, /proc/PID/stat) over the answers; zero when not read.
	DaemonCPUPerAnswer time.Duration
}

// PerSecond is answers per second.
func (a APIResult) PerSecond() float64 { return float64(a.Answers) / a.Elapsed.Seconds() }

// Machine is what the figures ran on.
type Machine struct {
	CPUs, GOMAXPROCS         int
	CPUModel, Kernel, GoArch string
	GoVersion                string
	// Commit is the checkout's HEAD, CommitDate when it was committed;
	// Dirty lists what differs from it (git status --porcelain), which
	// makes the figures those of no commit.
	Commit     string
	CommitDate time.Time
	Dirty      []string
	// LoadAvg is /proc/loadavg's 1, 5 and 15 minute figures when the
	// report is written: a busy machine slows every figure.
	LoadAvg string
	Date    time.Time
}

// ThisMachine describes the machine and checkout the benchmarks run on.
func ThisMachine() Machine {
	m := Machine{
		CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		GoVersion: runtime.Version(), GoArch: runtime.GOOS + "/" + runtime.GOARCH,
		Date: time.Now().UTC(), CPUModel: "unknown", Kernel: "unknown", Commit: "unknown", LoadAvg: "unknown",
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(data)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(data)); len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	if out, err := exec.Command("git", "log", "-1", "--format=%H %cI").Output(); err == nil {
		if hash, date, ok := strings.Cut(strings.TrimSpace(string(out)), " "); ok {
			m.Commit = hash
			m.CommitDate, _ = time.Parse(time.RFC3339, date)
		}
	}
	if out, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil {
		for line := range strings.Lines(string(out)) {
			if line = strings.TrimSpace(line); line != "" {
				m.Dirty = append(m.Dirty, line)
			}
		}
	}
	return m
}

// DirtyExcept is m.Dirty without the changes to the files named (the
// report's own file, which a run rewrites).
func (m Machine) DirtyExcept(files ...string) []string {
	var out []string
	for _, d := range m.Dirty {
		if _, path, _ := strings.Cut(d, " "); !slices.Contains(files, strings.TrimSpace(path)) {
			out = append(out, d)
		}
	}
	return out
}

// Lines are the figures as plain lines, one per figure.
func (f *Figures) Lines() []string {
	var lines []string
	floor := f.Floor.Median()
	latency := func(name string, s Sample) {
		if len(s) == 0 {
			return
		}
		line := fmt.Sprintf("%s: median %s p95 %s over %d runs", name, ms(s.Median()), ms(s.Percentile(95)), len(s))
		if floor > 0 {
			line += fmt.Sprintf(" (floor %s, ratio %.2fx)", ms(floor), ratio(s.Median(), floor))
		}
		lines = append(lines, line)
	}
	if len(f.Floor) > 0 {
		lines = append(lines, fmt.Sprintf("floor (hello world, same build flags): median %s p95 %s over %d runs",
			ms(floor), ms(f.Floor.Percentile(95)), len(f.Floor)))
	}
	latency("helper get", f.Helper)
	latency("helper version (start-up only, no socket)", f.HelperVersion)
	latency("docker-credential-ecr-login v0.12.0 get (warm cache, awsfake)", f.ECRLogin)
	if f.ECRLoginSkipped != "" {
		lines = append(lines, "docker-credential-ecr-login v0.12.0: not measured, it did not build: "+
			strings.Join(strings.Fields(f.ECRLoginSkipped), " "))
	}
	for _, l := range []string{f.HelperPaired.line("helper get"), f.HelperNoDaemonPaired.line("helper get, no daemon")} {
		if l != "" {
			lines = append(lines, l)
		}
	}
	latency("ocicred get", f.Ocicred)
	latency("helper get, no daemon (cached token through the index; no exec)", f.HelperNoDaemon)
	latency("ocicred get --no-daemon, no daemon (cached token)", f.OcicredNoDaemon)
	if f.HelperMiB > 0 {
		lines = append(lines, fmt.Sprintf("sizes: helper %.1f MiB, ocicred %.1f MiB, floor %.1f MiB", f.HelperMiB, f.OcicredMiB, f.FloorMiB))
	}
	if l := wakeupLine(f.Wakeup); l != "" {
		lines = append(lines, l)
	}
	if a := f.API; a != nil {
		lines = append(lines, fmt.Sprintf("daemon API: %.0f answers/s (%d workers, %d answers in %s, one connection per answer as the helper does)",
			a.PerSecond(), a.Workers, a.Answers, a.Elapsed.Round(time.Millisecond)))
	}
	if r := f.Refresh; r != nil {
		lines = append(lines, fmt.Sprintf("AWS calls, %s (%s tokens, %s simulated): %d at start, %.2f per hour after the first lifetime; %d refresh loops; shortest gap between two calls of one pair %s",
			r.Fleet, hours(r.Lifetime), hours(r.Simulated), r.StartCalls, r.SteadyPerHour, r.Loops, hm(r.MinGap)))
	}
	if s := f.Startup; s != nil {
		lines = append(lines, fmt.Sprintf("real daemon, %s: all ready %s after start, %d GetAuthorizationToken calls for %d pairs",
			s.Fleet, s.Ready.Round(time.Millisecond), s.Calls, s.Pairs))
	}
	lines = append(lines, f.Scale.Lines()...)
	if l := linkedLine(f.Linked); l != "" {
		lines = append(lines, l)
	}
	if f.Clouds != nil {
		lines = append(lines, f.Clouds.Lines()...)
	}
	return lines
}

// String names the fleet: "1000 registries over 10 identities x 3 regions".
func (f Fleet) String() string {
	return fmt.Sprintf("%d registries over %d identities x %d regions", f.Registries, f.Identities, len(f.Regions))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func hours(d time.Duration) string { return fmt.Sprintf("%gh", d.Hours()) }

// hm is d to the minute: "4h48m".
func hm(d time.Duration) string {
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
