package bench

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/ocicred/ocicred/internal/localapi"
	"github.com/ocicred/ocicred/test/e2e/subproc"
)

// bareMain is the least a server on a unix socket can do per answer with
// net/http: the same answer for every request, no peer credentials, no
// config, no log. It listens on os.Args[1] and prints "ready".
const bareMain = `package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
)

func main() {
	ln, err := net.Listen("unix", os.Args[1])
	if err != nil {
		panic(err)
	}
	body := []byte(` + "`" + `{"registry":"bare","username":"AWS","secret":"not-a-secret"}` + "`" + `)
	fmt.Println("ready")
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
}
`

// WakeupGaps are the idle gaps MeasureWakeup leaves between two answers.
var WakeupGaps = []time.Duration{0, 5 * time.Millisecond, 50 * time.Millisecond}

// WakeupResult is the round trip of one answer over a unix socket, one
// connection per answer as the helper asks, after an idle gap: the
// median over the runs, for the real daemon and for the bare server.
type WakeupResult struct {
	Gap          time.Duration
	Daemon, Bare time.Duration
	Runs         int
}

// StartBare builds bareMain with BuildFlags into dir and starts it on
// socket; the caller stops it.
func StartBare(ctx context.Context, dir, socket string) (*subproc.Proc, error) {
	bin, err := buildStandalone(ctx, dir, "bare", bareMain)
	if err != nil {
		return nil, err
	}
	proc, err := subproc.Start(exec.Command(bin, socket))
	if err != nil {
		return nil, err
	}
	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := proc.WaitOutput(wait, func(out string) bool { return strings.Contains(out, "ready") }); err != nil {
		_ = proc.Kill()
		return nil, fmt.Errorf("bare server: %w\n%s", err, proc.Output())
	}
	return proc, nil
}

// MeasureWakeup asks each socket for the credentials of server runs times
// per gap, sleeping the gap between two answers, in turn (daemon, bare,
// daemon, ...) so that both see the same machine. Only the answer is
// timed: connect, request, answer, close.
func MeasureWakeup(ctx context.Context, daemonSocket, bareSocket, server string, runs int) ([]WakeupResult, error) {
	daemon, bare := localapi.NewClient(daemonSocket), localapi.NewClient(bareSocket)
	daemon.Name, bare.Name = localapi.ClientHelper, localapi.ClientHelper
	var out []WakeupResult
	for _, gap := range WakeupGaps {
		var d, b Sample
		for range runs {
			for _, c := range []struct {
				client *localapi.Client
				into   *Sample
			}{{daemon, &d}, {bare, &b}} {
				time.Sleep(gap)
				start := time.Now()
				got, err := c.client.Credentials(ctx, server)
				took := time.Since(start)
				if err != nil || got.Secret == "" {
					return nil, fmt.Errorf("credentials: %v", err)
				}
				*c.into = append(*c.into, took)
			}
		}
		out = append(out, WakeupResult{Gap: gap, Daemon: d.Median(), Bare: b.Median(), Runs: runs})
	}
	return out, nil
}

// wakeupLine is the report's line for the results.
func wakeupLine(rs []WakeupResult) string {
	if len(rs) == 0 {
		return ""
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("after %s idle: daemon %dµs, bare %dµs", r.Gap, r.Daemon.Microseconds(), r.Bare.Microseconds())
	}
	return fmt.Sprintf("one answer over the socket, medians of %d (the bare server is net/http answering a constant): %s",
		rs[0].Runs, strings.Join(parts, "; "))
}
