package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ocicred/ocicred/internal/kubeletplugin"
	"github.com/ocicred/ocicred/internal/localapi"
	"github.com/ocicred/ocicred/test/awsfake"
)

// Load test knobs. The figures it prints are in docs/reliability.md.
const (
	// loadTokenLife is awsfake's token lifetime: the daemon refreshes at
	// 8 to 12 s, and the test makes those refreshes fail, then recover
	// well before the 20 s are up.
	loadTokenLife = 20 * time.Second
	loadHelpers   = 240 // at least this many helper processes
	loadKubelets  = 60  // and kubelet plugin processes
	loadAPICalls  = 800 // and direct API calls: 1,100 requests at the least
	loadProcesses = 32  // processes at a time (the CI machine has 2 cores)
	loadAPIConns  = 16  // API callers at a time
	loadRewrites  = 50  // config rewrites during the run
	loadEvery     = 20  // answers between two rewrites
	loadKeyA      = "AKIAOCICREDLOAD00001"
	loadKeyC      = "AKIAOCICREDLOAD00003"
	loadSecretEnv = "OCICRED_LOAD_SK"
)

// loadTarget is a server address the load asks for, and what is right.
type loadTarget struct {
	name, host string
	kind       string // basic, ecr, none
	core       bool   // in every version of the config: any failure counts
	user, pass string // basic
	identity   string // ecr: registries with the same identity share tokens
}

// loadOutcome is one answer, whatever the client.
type loadOutcome struct {
	creds      bool
	user, pass string
	notFound   bool
	message    string // an error answer: "registry NAME: …" or anything else
}

type loadSample struct {
	class string
	took  time.Duration
}

// loadRun is the state of one load run: targets, samples, problems.
type loadRun struct {
	env     *Env
	fake    *awsfake.Server
	targets []*loadTarget

	mu       sync.Mutex
	answered chan struct{} // closed, and replaced, at every answer
	samples  []loadSample
	problems []string
	counts   map[string]int         // by class
	outcomes map[string]int         // by kind of answer
	tokens   map[string]string      // token → identity that was answered it
	perTgt   map[string]map[int]int // by target: 0 creds, 1 not found, 2 error
}

func (l *loadRun) record(class string, tgt *loadTarget, took time.Duration, o loadOutcome) {
	problem := l.verify(tgt, o)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.samples = append(l.samples, loadSample{class, took})
	close(l.answered)
	l.answered = make(chan struct{})
	l.counts[class]++
	kind := 0
	switch {
	case o.creds:
		l.outcomes["credentials"]++
	case o.notFound:
		l.outcomes["not found"]++
		kind = 1
	default:
		l.outcomes["error"]++
		kind = 2
	}
	if l.perTgt[tgt.name] == nil {
		l.perTgt[tgt.name] = map[int]int{}
	}
	l.perTgt[tgt.name][kind]++
	if problem != "" {
		l.problems = append(l.problems, fmt.Sprintf("%s %s (%s): %s", class, tgt.name, tgt.host, l.env.Redact(problem)))
	}
}

// waitAnswers waits until n answers were recorded; false when stop closes
// first.
func (l *loadRun) waitAnswers(n int, stop <-chan struct{}) bool {
	for {
		l.mu.Lock()
		got, answered := len(l.samples), l.answered
		l.mu.Unlock()
		if got >= n {
			return true
		}
		select {
		case <-answered:
		case <-stop:
			return false
		}
	}
}

// verify says what is wrong with an answer, "" when nothing is.
func (l *loadRun) verify(tgt *loadTarget, o loadOutcome) string {
	switch {
	case o.creds && tgt.kind == "basic":
		if o.user != tgt.user || o.pass != tgt.pass {
			return "wrong Basic credentials"
		}
		return ""
	case o.creds && tgt.kind == "ecr":
		if o.user != "AWS" || !l.fake.ValidToken(o.user, o.pass) {
			return "a token the fake did not issue, or expired"
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if id, ok := l.tokens[o.pass]; ok && id != tgt.identity {
			return "a token of identity " + id + " for identity " + tgt.identity
		}
		l.tokens[o.pass] = tgt.identity
		return ""
	case o.creds:
		return "credentials for an address ocicred does not manage"
	case tgt.core && tgt.kind != "none":
		if o.notFound {
			return "not found"
		}
		return "error: " + o.message
	case o.notFound:
		return ""
	case tgt.kind == "ecr" && strings.HasPrefix(o.message, "registry "+tgt.name+": "):
		return "" // an extra identity whose first token is not in yet, or fails
	}
	return "error: " + o.message
}

// loadConfig is version v of the config: the core registries always, the
// extras in some versions, the order rotated.
func (l *loadRun) loadConfig(v int) string {
	var regs []string
	for _, tgt := range l.targets {
		switch {
		case tgt.kind == "none":
			continue
		case tgt.name == "x1" && v%2 == 0, tgt.name == "x2" && v%3 != 1,
			tgt.name == "ex" && v%4 == 0, tgt.name == "en" && v%5 == 0:
			continue
		}
		regs = append(regs, loadEntry(tgt))
	}
	if len(regs) > 0 {
		k := v % len(regs)
		regs = append(regs[k:], regs[:k]...)
	}
	return "registries:\n" + strings.Join(regs, "")
}

func loadEntry(tgt *loadTarget) string {
	if tgt.kind == "basic" {
		return fmt.Sprintf("  - {name: %s, type: basic, endpoint: %q, username: %s, password: %s}\n", tgt.name, tgt.host, tgt.user, tgt.pass)
	}
	key, region := loadKeyA, "us-west-2"
	switch tgt.identity {
	case "B":
		region = "eu-west-1"
	case "C":
		key, region = loadKeyC, "eu-central-1"
	}
	return fmt.Sprintf("  - name: %s\n    type: ecr\n    endpoint: %s\n    region: %s\n"+
		"    credentials: {type: secret, accessKeyId: %s, secretAccessKeyEnv: %s}\n", tgt.name, tgt.host, region, key, loadSecretEnv)
}

// TestLoad fires well over a thousand concurrent credential requests at the
// real daemon: whole helper processes and kubelet plugin processes (32 at a
// time) and direct API calls over the socket (16 at a time), for Basic and
// ECR registries, while the config file is replaced 50 times (extras come
// and go, a core set stays) and AWS fails the token refreshes (503, then
// AccessDenied) until the daemon has seen it, then recovers. Every answer
// is checked: zero wrong answers, zero failures for the core registries.
// The daemon's open files and this process's goroutines and open files
// must be back where they were. Answers per second and latencies are
// printed, not asserted.
func TestLoad(t *testing.T) {
	Need(t) // not parallel: the figures are for the daemon alone
	fake := awsfake.Start(t, awsfake.WithTokenLifetime(loadTokenLife), awsfake.WithLogger(slog.New(slog.DiscardHandler)))
	env := NewEnv(t, BuildBinaries(t))
	secretKey := Secret("aws-secret-key")
	env.Secrets = append(env.Secrets, secretKey)
	fake.AddKey(loadKeyA, secretKey)
	fake.AddKey(loadKeyC, secretKey)
	env.Extra = append(fake.Env(), loadSecretEnv+"="+secretKey)
	l := &loadRun{env: env, fake: fake, answered: make(chan struct{}), counts: map[string]int{}, outcomes: map[string]int{},
		tokens: map[string]string{}, perTgt: map[string]map[int]int{}}
	for i := range 4 {
		pw := Secret(fmt.Sprintf("b%d", i))
		env.Secrets = append(env.Secrets, pw)
		l.targets = append(l.targets, &loadTarget{name: fmt.Sprintf("b%d", i), host: fmt.Sprintf("b%d.load.example:5000", i),
			kind: "basic", core: true, user: fmt.Sprintf("user%d", i), pass: pw})
	}
	for _, x := range []string{"x1", "x2"} {
		pw := Secret(x)
		env.Secrets = append(env.Secrets, pw)
		l.targets = append(l.targets, &loadTarget{name: x, host: x + ".load.example", kind: "basic", user: "u" + x, pass: pw})
	}
	l.targets = append(l.targets,
		&loadTarget{name: "e0", host: "111111111111.dkr.ecr.us-west-2.amazonaws.com", kind: "ecr", core: true, identity: "A"},
		&loadTarget{name: "e1", host: "222222222222.dkr.ecr.eu-west-1.amazonaws.com", kind: "ecr", core: true, identity: "B"},
		&loadTarget{name: "e2", host: "333333333333.dkr.ecr.us-west-2.amazonaws.com", kind: "ecr", core: true, identity: "A"},
		&loadTarget{name: "ex", host: "444444444444.dkr.ecr.us-west-2.amazonaws.com", kind: "ecr", identity: "A"},
		&loadTarget{name: "en", host: "555555555555.dkr.ecr.eu-central-1.amazonaws.com", kind: "ecr", identity: "C"},
		&loadTarget{name: "unmanaged", host: "unmanaged.load.example", kind: "none", core: true},
	)
	writeFile(t, env.Config, l.loadConfig(1))
	env.HelperWithoutFallback(t) // a helper answer is the daemon's
	d := StartDaemon(t, env)
	client := localapi.NewClient(env.Socket)
	// The API callers share this process with the race detector, 16
	// callers and 32 process launchers on 2 cores: on a machine busy with
	// more, one of them can go unscheduled past the helper's 1 s dial
	// bound before it even connects, which says nothing of the daemon (the
	// helper processes keep the 1 s bound). A minute is a guard.
	client.DialTimeout = time.Minute
	for _, name := range []string{"e0", "e1", "en"} {
		env.WaitStatus(t, name, 15*time.Second, "ready", func(r RegistryStatus) bool { return r.State == "ready" })
	}
	// Warm up, then take the before figures. Connections the warm-up
	// has not closed yet count as before: they only make the after
	// check looser by what is still open, never fail it.
	for _, tgt := range l.targets {
		_, _ = client.Credentials(context.Background(), tgt.host)
	}
	goroutinesBefore := runtime.NumGoroutine()
	leakOpts := []goleak.Option{goleak.IgnoreCurrent(),
		// awsfake's server side of the daemon's keep-alive connections
		goleak.IgnoreAnyFunction("net/http.(*conn).serve")}
	awsPort := loadPort(t, fake.URL)
	callsBefore := fake.CallCount(awsfake.ECRGetAuthorizationToken)
	selfBefore, daemonBefore := mustCountFiles(t, 0, awsPort), mustCountFiles(t, d.Pid(), awsPort)

	stop := make(chan struct{})
	var stopOnce sync.Once
	halt := func() { stopOnce.Do(func() { close(stop) }) }
	var wg sync.WaitGroup
	defer func() { halt(); wg.Wait() }() // also when the test fails early: nothing outlives it
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	var next atomic.Int64 // spreads requests over the targets
	pick := func() *loadTarget { return l.targets[int(next.Add(1))%len(l.targets)] }
	var helpers, kubelets, apiCalls atomic.Int64
	start := time.Now()

	// 32 processes at a time: 4 helpers to 1 kubelet plugin.
	for w := range loadProcesses {
		wg.Go(func() {
			for i := 0; !stopped() || helpers.Load() < loadHelpers || kubelets.Load() < loadKubelets; i++ {
				if (w+i)%5 == 4 {
					kubelets.Add(1)
					l.kubeletRequest(pick())
				} else {
					helpers.Add(1)
					l.helperRequest(pick())
				}
			}
		})
	}
	for range loadAPIConns {
		wg.Go(func() {
			for !stopped() || apiCalls.Load() < loadAPICalls {
				apiCalls.Add(1)
				l.apiRequest(client, pick())
			}
		})
	}
	// The config is replaced loadRewrites times, editor-style, one every
	// loadEvery answers: spread over the load however fast it runs.
	rewrites := make(chan int, 1)
	wg.Go(func() {
		n := 0
		for v := 2; v < 2+loadRewrites; v++ {
			if n > 0 && !l.waitAnswers(n*loadEvery, stop) {
				break
			}
			writeConfigAtomically(t, env.Config, l.loadConfig(v))
			n++
		}
		rewrites <- n
	})
	// AWS fails the refreshes of both core identities, then recovers.
	faultReport := l.failAndRecover(t, client, start)
	n := <-rewrites
	halt()
	wg.Wait()
	took := time.Since(start)

	// After: files and goroutines back where they were. The daemon's
	// connections to AWS (awsfake's port) are counted apart, and so is
	// this process's server side of them.
	var daemonAfter, selfAfter FileCounts
	deadline := time.Now().Add(5 * time.Second)
	for {
		daemonAfter, selfAfter = mustCountFiles(t, d.Pid(), awsPort), mustCountFiles(t, 0, awsPort)
		if (daemonAfter.Other <= daemonBefore.Other+2 && selfAfter.Other <= selfBefore.Other+2) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	leakErr := goleak.Find(leakOpts...)
	goroutinesAfter := runtime.NumGoroutine()
	calls := fake.CallCount(awsfake.ECRGetAuthorizationToken) - callsBefore
	st, r := env.Status(t)
	env.LogRun(t, r, 0, env.Bin.Ocicred, "status", "--json")

	l.report(t, took, n, faultReport)
	t.Logf("daemon open files: %d before, %d after, and connections to AWS: %d before, %d after (%d GetAuthorizationToken calls meanwhile); "+
		"this process: %d before, %d after; goroutines here: %d before, %d after",
		daemonBefore.Other, daemonAfter.Other, daemonBefore.ConnsOnPort, daemonAfter.ConnsOnPort, calls,
		selfBefore.Other, selfAfter.Other, goroutinesBefore, goroutinesAfter)
	total := len(l.samples)
	switch {
	case helpers.Load() < loadHelpers || kubelets.Load() < loadKubelets || total < 1000:
		t.Errorf("only %d requests (%d helpers, %d kubelet plugins)", total, helpers.Load(), kubelets.Load())
	case n != loadRewrites:
		t.Errorf("%d config rewrites, want %d", n, loadRewrites)
	}
	if len(l.problems) > 0 {
		t.Errorf("%d wrong or failed answers of %d; first ones:\n%s", len(l.problems), total, strings.Join(l.problems[:min(20, len(l.problems))], "\n"))
	}
	if daemonAfter.Other > daemonBefore.Other+2 {
		t.Errorf("the daemon had %d open files (AWS connections apart) before the load and %d after", daemonBefore.Other, daemonAfter.Other)
	}
	if selfAfter.Other > selfBefore.Other+2 {
		t.Errorf("the test process had %d open files (awsfake's connections apart) before the load and %d after", selfBefore.Other, selfAfter.Other)
	}
	if leakErr != nil {
		t.Errorf("goroutines left behind by the load: %v", leakErr)
	}
	t.Run("connections to AWS do not pile up", func(t *testing.T) {
		if daemonAfter.ConnsOnPort > daemonBefore.ConnsOnPort+2 {
			t.Errorf("the daemon holds %d connections to AWS after the load, %d before, after %d GetAuthorizationToken calls",
				daemonAfter.ConnsOnPort, daemonBefore.ConnsOnPort, calls)
		}
	})
	if st.ConfigError != "" || len(st.Registries) == 0 {
		t.Errorf("final status: configError %q, %d registries", st.ConfigError, len(st.Registries))
	}
	d.Stop(t)
	for _, sec := range env.Secrets {
		if strings.Contains(d.Log(), sec) {
			t.Errorf("the daemon log holds a secret (%d bytes)", len(sec))
		}
	}
	for tok := range l.tokens {
		if strings.Contains(d.Log(), tok) {
			t.Error("the daemon log holds a token")
			break
		}
	}
}

// failAndRecover injects 503 (twice, retried by the SDK) then AccessDenied
// on every GetAuthorizationToken, waits until AWS has refused a refresh of
// both core identities and the daemon shows it, clears the faults, waits
// until AWS has answered both again and the daemon is ready with them. The
// waits are for the fake's calls (events); only the short step from AWS's
// answer to the daemon's status is polled. It returns what happened, for
// the report.
func (l *loadRun) failAndRecover(t *testing.T, client *localapi.Client, start time.Time) string {
	t.Helper()
	// A guard, not a deadline: each core identity refreshes within 12 s
	// of its last token, and retries failures within seconds.
	ctx, cancel := context.WithTimeout(context.Background(), 4*loadTokenLife)
	defer cancel()
	l.fake.Inject(awsfake.ServiceUnavailable, awsfake.ECRGetAuthorizationToken, 2)
	l.fake.Inject(awsfake.AccessDenied, awsfake.ECRGetAuthorizationToken, awsfake.Forever)
	injected := time.Since(start)
	core := []string{"us-west-2", "eu-west-1"} // identities A and B: key A in two regions
	for _, region := range core {
		if _, err := l.fake.WaitCall(ctx, func(c awsfake.Call) bool {
			return c.AccessKeyID == loadKeyA && c.Region == region && c.ErrorCode == "AccessDeniedException"
		}); err != nil {
			t.Fatalf("AWS refused no refresh in %s: %v", region, err)
		}
	}
	lastErr := waitCoreStatus(ctx, t, client, "both core identities failing", func(r localapi.RegistryStatus) bool { return r.LastError != "" })
	l.fake.ClearFaults()
	cleared := time.Since(start)
	clearedAt := time.Now()
	for _, region := range core {
		if _, err := l.fake.WaitCall(ctx, func(c awsfake.Call) bool {
			return c.AccessKeyID == loadKeyA && c.Region == region && c.ErrorCode == "" && !c.Time.Before(clearedAt)
		}); err != nil {
			t.Fatalf("no refresh in %s succeeded once AWS recovered: %v", region, err)
		}
	}
	waitCoreStatus(ctx, t, client, "both core identities recovered", func(r localapi.RegistryStatus) bool {
		return r.LastError == "" && r.State == localapi.StateReady
	})
	faulted := 0
	for _, c := range l.fake.Calls() {
		if c.Fault != awsfake.NoFault {
			faulted++
		}
	}
	return fmt.Sprintf("AWS faults from %s to %s (%d failed GetAuthorizationToken calls; status showed %q), all refreshed by %s",
		injected.Round(100*time.Millisecond), cleared.Round(100*time.Millisecond), faulted, lastErr,
		time.Since(start).Round(100*time.Millisecond))
}

// waitCoreStatus polls the daemon's status until ok holds for both core ECR
// registries (e0, e1), and returns the last error of the last of them. It
// is polled: the daemon shows what AWS answered a moment after the fake
// sent it, and says nothing when it does.
func waitCoreStatus(ctx context.Context, t *testing.T, client *localapi.Client, what string, ok func(localapi.RegistryStatus) bool) string {
	t.Helper()
	for {
		st, err := client.Status(ctx)
		if err == nil {
			var last string
			n := 0
			for _, r := range st.Registries {
				if (r.Name == "e0" || r.Name == "e1") && ok(r) {
					n++
					last = r.LastError
				}
			}
			if n == 2 {
				return last
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not in status (%+v, %v): %v", what, st, err, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (l *loadRun) helperRequest(tgt *loadTarget) {
	start := time.Now()
	r := l.env.RunQuiet(tgt.host, l.env.Helper, "get")
	took := time.Since(start)
	var o loadOutcome
	out := strings.TrimSpace(r.Stdout)
	var a HelperAnswer
	switch {
	case r.ExitCode == 0 && json.Unmarshal([]byte(out), &a) == nil:
		o = loadOutcome{creds: true, user: a.Username, pass: a.Secret}
	case r.ExitCode == 1 && out == notFound:
		o.notFound = true
	default:
		o.message = fmt.Sprintf("exit %d: %s%s", r.ExitCode, out, strings.TrimSpace(r.Stderr))
		if r.ExitCode == 1 {
			o.message = out
		}
	}
	l.record("helper", tgt, took, o)
}

func (l *loadRun) kubeletRequest(tgt *loadTarget) {
	start := time.Now()
	// No config for the plugin to fall back on: every answer is the daemon's.
	r := l.env.RunQuiet(kubeletRequest(tgt.host+"/team/app:v1"), l.env.Bin.Ocicred,
		"kubelet-credential-provider", "--config", "/nonexistent/ocicred.yaml")
	took := time.Since(start)
	var o loadOutcome
	var resp kubeletplugin.Response
	host, _, _ := strings.Cut(tgt.host, "/")
	switch {
	case r.ExitCode == 0 && json.Unmarshal([]byte(r.Stdout), &resp) == nil:
		if a, ok := resp.Auth[host]; ok {
			o = loadOutcome{creds: true, user: a.Username, pass: a.Password}
		} else if len(resp.Auth) == 0 {
			o.notFound = true
		} else {
			o.message = "auth for another host"
		}
	default:
		msg := strings.TrimSpace(r.Stderr)
		if i := strings.Index(msg, "registry "); i >= 0 {
			msg = msg[i:]
		}
		o.message = msg
	}
	l.record("kubelet", tgt, took, o)
}

func (l *loadRun) apiRequest(c *localapi.Client, tgt *loadTarget) {
	start := time.Now()
	got, err := c.Credentials(context.Background(), tgt.host)
	took := time.Since(start)
	var o loadOutcome
	switch {
	case err == nil:
		o = loadOutcome{creds: true, user: got.Username, pass: got.Secret}
	case errors.Is(err, localapi.ErrNotFound):
		o.notFound = true
	default:
		o.message = err.Error()
	}
	l.record("api", tgt, took, o)
}

// report prints the figures.
func (l *loadRun) report(t *testing.T, took time.Duration, rewrites int, faults string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	byClass := map[string][]time.Duration{}
	var all []time.Duration
	for _, s := range l.samples {
		byClass[s.class] = append(byClass[s.class], s.took)
		all = append(all, s.took)
	}
	line := func(name string, ds []time.Duration) string {
		slices.Sort(ds)
		return fmt.Sprintf("%-8s %6d answers  p50 %8s  p99 %8s  max %8s", name, len(ds),
			loadPercentile(ds, 50), loadPercentile(ds, 99), ds[len(ds)-1].Round(10*time.Microsecond))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "load: %d answers in %s = %.0f answers/s, %d config rewrites, %d processes at a time, %d API callers, GOMAXPROCS %d\n",
		len(all), took.Round(10*time.Millisecond), float64(len(all))/took.Seconds(), rewrites, loadProcesses, loadAPIConns, runtime.GOMAXPROCS(0))
	for _, c := range []string{"helper", "kubelet", "api"} {
		b.WriteString(line(c, byClass[c]) + "\n")
	}
	b.WriteString(line("all", all) + "\n")
	fmt.Fprintf(&b, "answers: %d credentials, %d not found, %d errors (extras only: %d wrong or failed in all)\n",
		l.outcomes["credentials"], l.outcomes["not found"], l.outcomes["error"], len(l.problems))
	names := make([]string, 0, len(l.perTgt))
	for n := range l.perTgt {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		c := l.perTgt[n]
		fmt.Fprintf(&b, "  %-9s %5d credentials %5d not found %5d errors\n", n, c[0], c[1], c[2])
	}
	b.WriteString(faults)
	t.Log(b.String())
}

func loadPercentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[max(min(i, len(sorted))-1, 0)].Round(10 * time.Microsecond)
}

func mustCountFiles(t *testing.T, pid, port int) FileCounts {
	t.Helper()
	c, err := CountOpenFiles(pid, port)
	if err != nil {
		t.Fatalf("open files of %d: %v", pid, err)
	}
	return c
}

// loadPort is the port of an http://127.0.0.1:PORT URL.
func loadPort(t *testing.T, rawURL string) int {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatalf("%s: %v", rawURL, err)
	}
	return p
}

// writeConfigAtomically replaces path as editors do: a temp file, renamed.
// It may run outside the test's goroutine: failures are errors.
func writeConfigAtomically(t *testing.T, path, content string) {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Errorf("write the config: %v", err)
		return
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Errorf("rename the config: %v", err)
	}
}
