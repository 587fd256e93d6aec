package deploy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/ocicred/ocicred/test/awsfake"
	"github.com/ocicred/ocicred/test/kubetest"
)

// BenchmarkControllerScale measures the figures of BENCHMARKS.md
// ("Kubernetes controller at scale"): 1,000 selected namespaces, 20 ECR
// registries over 5 identities in 2 regions, the controller as a real
// process with its default flags against the real API server and awsfake
// (tokens of 2 min, so that every identity refreshes once the start is
// over, at 48-72 s).
//
//	go test ./deploy -run '^$' -bench ControllerScale -benchtime 1x
//
// It reports; it asserts nothing about time.
func BenchmarkControllerScale(b *testing.B) {
	const (
		namespaces = 1000
		identities = 5
		perRegion  = 2 // registries per identity and region
	)
	regions := []string{"us-west-2", "eu-west-1"}
	for range b.N {
		cl := kubetest.Start(b)
		admin := cl.Admin(b)
		ctx := context.Background()
		var keys []awsfake.Option
		var regs strings.Builder
		regs.WriteString("registries:\n")
		n := 0
		for i := range identities {
			key := fmt.Sprintf("AKIAOCICREDSCALE%04d", i)
			keys = append(keys, awsfake.WithKey(key, "scale-secret"))
			for _, region := range regions {
				for range perRegion {
					fmt.Fprintf(&regs, "  - name: r%d\n    type: ecr\n    endpoint: %012d.dkr.ecr.%s.amazonaws.com\n    credentials: {type: secret, accessKeyId: %s, secretAccessKeyEnv: OCICRED_SCALE_SK}\n",
						n, 100000000000+n, region, key)
					n++
				}
			}
		}
		fake, err := awsfake.New(append(keys, awsfake.WithTokenLifetime(2*time.Minute))...)
		if err != nil {
			b.Fatal(err)
		}
		run := kubetest.Namespace(b, admin, "scale", nil)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for range namespaces {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				kubetest.Namespace(b, admin, "scale", map[string]string{"scale": run})
			})
		}
		wg.Wait()

		dir := b.TempDir()
		cfg := filepath.Join(dir, "config.yaml")
		body := fmt.Sprintf("kubernetes:\n  secretName: scale-pull\n  namespaceSelector: scale=%s\n  leaderElection: {namespace: %s, name: scale}\n%s", run, run, regs.String())
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			b.Fatal(err)
		}
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		cmd := exec.Command(ocicredBinary(b), "controller", "--config", cfg, "--kubeconfig", cl.Kubeconfig(b, dir, kubetest.AdminToken), "--listen", addr, "--log-level", "warn")
		cmd.Env = append(append(os.Environ(), fake.Env()...), "OCICRED_SCALE_SK=scale-secret", "POD_NAME=scale")
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		sel := metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", "scale-pull").String()}
		var written time.Duration
		kubetest.Eventually(b, 3*time.Minute, "every Secret written", func() error {
			l, err := admin.CoreV1().Secrets("").List(ctx, sel)
			if err != nil {
				return err
			}
			full := 0
			for _, s := range l.Items {
				if strings.Count(string(s.Data[".dockerconfigjson"]), `"auth"`) == n {
					full++
				}
			}
			if full < namespaces {
				return fmt.Errorf("%d of %d", full, namespaces)
			}
			written = time.Since(start)
			return nil
		})
		startCalls := fake.CallCount(awsfake.ECRGetAuthorizationToken)
		rssWritten := procKiB(cmd.Process.Pid, "VmRSS")
		createsAtStart := metric(b, addr, `ocicred_kube_secret_writes_total{result="ok",verb="create"}`)
		updatesAtStart := metric(b, addr, `ocicred_kube_secret_writes_total{result="ok",verb="update"}`)
		// Every identity and region refreshes once (at 48-72 s of 120 s).
		pairs := identities * len(regions)
		kubetest.Eventually(b, 2*time.Minute, "one refresh per identity and region", func() error {
			if c := fake.CallCount(awsfake.ECRGetAuthorizationToken); c < startCalls+pairs {
				return fmt.Errorf("%d refreshes", c-startCalls)
			}
			return nil
		})
		// The round's writes land (at QPS 50 a pass over 1,000 namespaces
		// takes 20 s) before the next round starts, 48 s after the first
		// refresh of this one: wait for a quiet 3 s of the write counter.
		prev := -1.0
		kubetest.Eventually(b, time.Minute, "the refresh round's writes", func() error {
			u := metric(b, addr, `ocicred_kube_secret_writes_total{result="ok",verb="update"}`)
			if u != prev {
				prev = u
				time.Sleep(3 * time.Second) // the quiet period observed
				return fmt.Errorf("still writing")
			}
			return nil
		})
		refreshes := fake.CallCount(awsfake.ECRGetAuthorizationToken) - startCalls
		if refreshes != pairs {
			b.Logf("warning: %d refreshes in the window, not %d: the next round began", refreshes, pairs)
		}
		updates := prev - updatesAtStart
		peak := procKiB(cmd.Process.Pid, "VmHWM")
		rss := procKiB(cmd.Process.Pid, "VmRSS")
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		fake.Close()

		b.ReportMetric(written.Seconds(), "s-to-all-written")
		b.ReportMetric(float64(startCalls), "aws-calls-at-start")
		b.ReportMetric(createsAtStart+updatesAtStart, "api-writes-at-start")
		b.ReportMetric(float64(refreshes), "refreshes")
		b.ReportMetric(updates/float64(refreshes), "updates/refresh")
		b.ReportMetric(float64(rssWritten)/1024, "MiB-rss-written")
		b.ReportMetric(float64(rss)/1024, "MiB-rss-end")
		b.ReportMetric(float64(peak)/1024, "MiB-rss-peak")
		b.Logf("%d namespaces, %d registries, %d identity-region pairs: all written in %v with %d AWS calls and %.0f writes; %d refreshes made %.0f updates; RSS %d KiB (peak %d KiB)",
			namespaces, n, pairs, written.Round(100*time.Millisecond), startCalls, createsAtStart+updatesAtStart, refreshes, updates, rss, peak)
	}
}

// metric reads one sample from the controller's /metrics.
func metric(b *testing.B, addr, series string) float64 {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// procKiB is a field of /proc/PID/status in KiB.
func procKiB(pid int, field string) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}
