package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ocicred/ocicred/internal/localapi"
	"github.com/ocicred/ocicred/test/awsfake"
)

// ProcessScaleResult is what a real `ocicred daemon` process did on a
// ScaleFleet's config, against awsfake.
type ProcessScaleResult struct {
	Fleet ScaleFleet
	// Ready is from starting the process until its status showed every
	// registry ready; Reload from the rename of a changed config until
	// the last Basic registry answered with its new password.
	Ready, Reload time.Duration
	// RSS is the process's resident memory (VmRSS of /proc/PID/status) once
	// every registry is ready, after the status answer that said so;
	// AnonRSS the part of it that is not the mapped binary (RssAnon).
	// ReloadRSS is VmRSS at the moment the reload is first served (the
	// daemon hands the load's garbage back just after: near the peak),
	// and HWM the peak resident memory (VmHWM) over the whole run. All in
	// bytes.
	RSS, AnonRSS, ReloadRSS, HWM uint64
}

// MeasureScaleProcess starts the daemon binary on the fleet's config (its
// ECR registries' tokens from awsfake, through the real AWS SDK), waits
// until every registry is ready, reads the process's memory from /proc,
// then renames a config with new passwords over the old one and waits
// until the new password is served. It is MeasureScale with the real
// program, its real start-up and its real memory.
func MeasureScaleProcess(ctx context.Context, bin Binaries, fleet ScaleFleet) (ProcessScaleResult, error) {
	r := ProcessScaleResult{Fleet: fleet}
	dir, err := os.MkdirTemp("", "ocscalep-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	cfg := filepath.Join(dir, "scale.yaml")
	if err := os.WriteFile(cfg, []byte(fleet.Config("a")), 0o600); err != nil {
		return r, err
	}
	keys := make([]awsfake.Option, fleet.ECR.Identities)
	for i := range keys {
		keys[i] = awsfake.WithKey(accessKeyID(i), benchSecretKey)
	}
	fake, err := awsfake.New(keys...)
	if err != nil {
		return r, err
	}
	defer fake.Close()
	env := append([]string{"PATH=/usr/bin:/bin", "HOME=" + dir, "OCICRED_CACHE_DIR=" + filepath.Join(dir, "cache")}, fake.Env()...)
	for _, name := range runtimeEnv {
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	sock := filepath.Join(dir, "s.sock")
	start := time.Now()
	proc, err := startDaemon(ctx, bin, env, cfg, sock, func() { r.Ready = time.Since(start) })
	if err != nil {
		return r, err
	}
	defer func() { _ = proc.Stop(10 * time.Second) }()
	mem, err := procMemory(proc.Pid())
	if err != nil {
		return r, err
	}
	r.RSS, r.AnonRSS = mem["VmRSS"], mem["RssAnon"]

	next := filepath.Join(dir, "next.yaml")
	if err := os.WriteFile(next, []byte(fleet.Config("b")), 0o600); err != nil {
		return r, err
	}
	client := localapi.NewClient(sock)
	last := fmt.Sprintf("registry-%05d.example.com", fleet.Basic-1)
	want := fmt.Sprintf("pw-%05d-b", fleet.Basic-1)
	start = time.Now()
	if err := os.Rename(next, cfg); err != nil {
		return r, err
	}
	done := make(chan error)
	if err := poll(ctx, done, func() bool {
		got, err := client.Credentials(ctx, last)
		return err == nil && got.Secret == want
	}); err != nil {
		return r, fmt.Errorf("reload: %w", err)
	}
	r.Reload = time.Since(start)
	if mem, err = procMemory(proc.Pid()); err != nil {
		return r, err
	}
	r.ReloadRSS, r.HWM = mem["VmRSS"], mem["VmHWM"]
	return r, nil
}

// runtimeEnv are the Go runtime's settings that MeasureScaleProcess passes
// from its own environment to the daemon's, to measure what a service
// setting does (systemd/ocicred.service sets them).
var runtimeEnv = []string{"GOGC", "GOMEMLIMIT"}

// procCPU is the CPU time a process has used, user and system, from
// /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// procMemory reads the kB figures of /proc/PID/status, in bytes by name.
func procMemory(pid int) (map[string]uint64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		kb, found := strings.CutSuffix(strings.TrimSpace(rest), " kB")
		if !ok || !found {
			continue
		}
		if n, err := strconv.ParseUint(kb, 10, 64); err == nil {
			m[name] = n << 10
		}
	}
	return m, sc.Err()
}
