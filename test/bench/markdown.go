package bench

import (
	"fmt"
	"strings"
	"time"

	"github.com/ocicred/ocicred/daemon"
)

// HelperRatio is the helper's median over the floor's: from the runs taken
// in turn (helper-paired) when there are some, else from the runs taken
// one after the other; 0 when not measured.
func (f *Figures) HelperRatio() float64 {
	if x := f.HelperPaired.Ratio(); x > 0 {
		return x
	}
	if len(f.Helper) == 0 || len(f.Floor) == 0 {
		return 0
	}
	return ratio(f.Helper.Median(), f.Floor.Median())
}

// HelperAimMet reports whether the helper's median is within HelperAim of
// the floor's (HelperRatio).
func (f *Figures) HelperAimMet() bool {
	x := f.HelperRatio()
	return x > 0 && x <= HelperAim
}

// CallsAimMet reports whether the refresh made at most one call per
// (identity, region) per refresh: one loop and one call at start per pair,
// and no two calls of a pair closer than the earliest refresh allows.
func (r *RefreshResult) CallsAimMet() bool {
	earliest := time.Duration(float64(r.Lifetime) * (daemon.RefreshFraction - daemon.RefreshJitter))
	pairs := r.Fleet.Pairs()
	return r.Loops == pairs && r.StartCalls == pairs*CallsPerRefreshAim && r.MinGap >= earliest-time.Second
}

// Markdown renders BENCHMARKS.md.
func (f *Figures) Markdown() string {
	var b strings.Builder
	m := f.Machine
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("Written by the benchmarks in `test/bench` when `OCICRED_BENCH_OUT` names this file:\n")
	b.WriteString("`OCICRED_BENCH_OUT=BENCHMARKS.md make bench` (a relative path is taken from the module root).\n")
	b.WriteString("Do not edit by hand. One run on one machine: compare figures from the same machine only,\n")
	b.WriteString("and mind the load average below (the machine may have been busy with other work).\n\n")

	b.WriteString("## Machine\n\n")
	fmt.Fprintf(&b, "| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| CPUs (nproc) | %d (GOMAXPROCS %d) |\n", m.CPUs, m.GOMAXPROCS)
	fmt.Fprintf(&b, "| CPU | %s |\n", m.CPUModel)
	fmt.Fprintf(&b, "| kernel | %s |\n", m.Kernel)
	fmt.Fprintf(&b, "| Go | %s %s |\n", m.GoVersion, m.GoArch)
	commit := fmt.Sprintf("%s, committed %s", m.Commit, m.CommitDate.UTC().Format(time.RFC3339))
	if len(m.Dirty) > 0 {
		commit += fmt.Sprintf(", **with %d uncommitted changes**", len(m.Dirty))
	}
	fmt.Fprintf(&b, "| commit | %s |\n", commit)
	fmt.Fprintf(&b, "| load average (1, 5, 15 min) at the end | %s |\n", m.LoadAvg)
	fmt.Fprintf(&b, "| date | %s |\n\n", m.Date.Format(time.RFC3339))

	b.WriteString("## Figures\n\n")
	fmt.Fprintf(&b, "Taken on commit `%s` (committed %s), run %s.\n\n```\n",
		m.Commit, m.CommitDate.UTC().Format(time.RFC3339), m.Date.Format(time.RFC3339))
	for _, l := range f.Lines() {
		b.WriteString(l + "\n")
	}
	b.WriteString("```\n\n")

	b.WriteString("## Aims\n\n| aim | figure | met |\n|---|---|---|\n")
	if x := f.HelperRatio(); x > 0 {
		fmt.Fprintf(&b, "| helper `get` within %.1fx of the floor (medians, run in turn when measured so) | %.2fx | %s |\n",
			HelperAim, x, yes(f.HelperAimMet()))
	}
	if r := f.Refresh; r != nil {
		fmt.Fprintf(&b, "| at most one AWS call per identity and region per refresh | %d loops and %d calls at start for %d pairs; shortest gap %s (earliest refresh %s) | %s |\n",
			r.Loops, r.StartCalls, r.Fleet.Pairs(), hm(r.MinGap),
			hm(time.Duration(float64(r.Lifetime)*(daemon.RefreshFraction-daemon.RefreshJitter))), yes(r.CallsAimMet()))
	}
	if s := f.Startup; s != nil {
		fmt.Fprintf(&b, "| the same with the real daemon and SDK, at start | %d calls for %d pairs | %s |\n",
			s.Calls, s.Fleet.Pairs(), yes(s.Calls == s.Fleet.Pairs() && s.Pairs == s.Fleet.Pairs()))
	}
	b.WriteString("\n")
	if len(f.Helper) > 0 && len(f.HelperVersion) > 0 && len(f.Floor) > 0 {
		get, version, floor := f.Helper.Median(), f.HelperVersion.Median(), f.Floor.Median()
		fmt.Fprintf(&b, "Of the helper's %s over the floor (medians), %s is start-up, before any work "+
			"(`version` minus the floor: package initialisation, a %.1f MiB binary against %.1f MiB), and %s "+
			"the answer itself (`get` minus `version`: the socket, the daemon, the JSON).\n\n",
			ms(get-floor), ms(version-floor), f.HelperMiB, f.FloorMiB, ms(get-version))
	}
	b.WriteString(f.goalsMarkdown())
	b.WriteString(f.cloudsMarkdown())
	b.WriteString(methods)
	b.WriteString(cloudsMethods)
	return b.String()
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

const methods = `## Method

- **Programs.** ` + "`ocicred`" + `, ` + "`docker-credential-ocicred`" + ` and the floor, a
  ` + "`package main`" + ` that prints one line with fmt.Println, are built in the same run
  with the same flags: ` + "`CGO_ENABLED=0 go build -trimpath -ldflags '-s -w'`" + `.
- **Whole-process latency** (BenchmarkGet). Each run starts a fresh process
  from the benchmark, with the server address on stdin as docker sends it, and
  waits for it to exit: fork, exec, the Go runtime's start, the work, exit.
  The daemon is the real ` + "`ocicred daemon`" + ` process, holding a token from awsfake for
  one protected ECR registry. ` + "`helper get`" + ` asks the daemon over its socket;
  ` + "`ocicred get HOST`" + ` does the same from the CLI (cobra and the AWS SDK linked).
  The floor gets the same environment and stdin.
- **No daemon** (BenchmarkGetDaemonDown, run before any daemon starts). A
  stage of its own, with the same config, whose daemon never runs: its socket
  path is never listened on and its token cache is its own. ` + "`helper get, no daemon`" + `
  is the helper's real daemon-down path: it finds no socket and, from the second
  run on, answers from the token cache's index of daemon-less answers (checked
  against the config's and its secret files' stat, internal/cachedir) without
  running ` + "`ocicred get`" + `; the first run execs ` + "`ocicred get`" + `, which finds no
  socket either, answers from the config and records the answer in that index;
  ` + "`ocicred get --no-daemon`" + ` is the CLI told not to ask. The untimed first run
  fills the cache with the one AWS call the stage makes; the timed runs read it. go test picks the number of runs (-benchtime; use
  ` + "`-bench Get -benchtime 200x`" + ` for exactly 200); median and p95 are nearest-rank
  over every run. ` + "`helper version`" + ` is the helper's start-up alone: no socket, no config.
  The goals' ratios come from ` + "`helper-paired`" + `: the floor and the helper run in turn,
  one of each per iteration, their order swapped every other one, so that both
  see the same machine (run one after the other, the floor's median moved by a
  third between two runs here).
- **Daemon API** (BenchmarkDaemonAPI). Concurrent clients in the benchmark
  process ask the real daemon for the ECR registry's credentials over its unix
  socket with the helper's own client (internal/localapi: one connection per
  request), through b.RunParallel; answers per second is answers over wall time.
  Clients and daemon share the machine's CPUs.
- **Wake-up** (BenchmarkWakeup). One answer over a unix socket, timed from
  connect to close with the helper's client, after 0, 5 and 50 ms of idle
  time, 100 times each, from the real daemon and from a bare server (net/http
  on a unix socket answering a constant, built with the same flags) in turn.
  The difference between the two is the daemon's own work per answer; what
  both take after an idle gap, beyond what they take back to back, is waking
  idle processes (the daemon's, and the asking one's) on this machine.
- **10,000 registries** (BenchmarkScaleProcess). The real ` + "`ocicred daemon`" + ` on
  ` + "`DefaultScale`" + ` (9,000 Basic registries with inline passwords, 1,000 ECR over
  10 identities x 3 regions, 1.2 MB of YAML) with awsfake behind the ECR ones:
  start → every registry ready (status polled every 10 ms), VmRSS and RssAnon
  from /proc/PID/status then; a config with new passwords renamed over the file
  → the last Basic registry answers with its new one (asked every 10 ms); VmHWM
  over the run. At least five runs; medians (of the two middle runs when
  they are even), with the least and the most.
- **Linked libraries** (BenchmarkLinkedRSS). Programs built in the ocicred
  module with the same flags that link only some of its libraries, run their
  package initialisation, print "ready" and wait: VmRSS and RssFile (the
  binary's resident pages) then. Beside them, ` + "`ocicred daemon`" + ` on a config with
  no registry, once it logs that it is ready.
- **AWS calls** (BenchmarkRefreshCalls). The daemon package, the code
  ` + "`ocicred daemon`" + ` runs, is started in-process on a config of 1,000 protected ECR
  registries (account i in one of 3 regions, signed by one of 10 access keys),
  with its Fetch option replaced by a counter that issues 12 h tokens, and its
  Clock option by a simulated clock that jumps from one refresh to the next. The
  count is of Fetch calls, one per GetAuthorizationToken the real fetcher
  would make. "Per hour after the first lifetime" excludes the start-up calls.
  A loop that refreshed twice for one refresh would show as a gap shorter than
  the earliest refresh (40% of the lifetime).
- **Real daemon at start** (BenchmarkStartupCalls). The ` + "`ocicred daemon`" + ` binary on the
  same 1,000-registry config with awsfake behind AWS_ENDPOINT_URL_ECR and the real
  AWS SDK; the fake's calls are counted the moment ` + "`status`" + ` first shows every
  protected ECR registry ready (polled every 10 ms), not when the process stops.
- No figure is asserted: a benchmark fails only when a program gives a wrong
  answer, or makes an AWS call where it should answer from a token it holds.
- **Commit.** The figures are written to this file only from a committed tree
  (the file itself apart); the commit and its date head the figures.
`
