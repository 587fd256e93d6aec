package daemon

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/secret"
	"github.com/ocicred/ocicred/internal/tokencache"
)

// The writer child: this test binary re-run with atomicChildEnv set to
// "hosts" or "cache", writing a file of atomicSizeEnv bytes at
// atomicPathEnv the way the daemon does.
const (
	atomicChildEnv = "OCICRED_ATOMIC_CHILD"
	atomicPathEnv  = "OCICRED_ATOMIC_PATH"
	atomicSizeEnv  = "OCICRED_ATOMIC_SIZE"
)

// TestAtomicWriterChild is not a test: it is the writer that
// TestAtomicWritesSurviveSIGKILL kills mid-write.
func TestAtomicWriterChild(t *testing.T) {
	mode := os.Getenv(atomicChildEnv)
	if mode == "" {
		t.Skip("the writer process of TestAtomicWritesSurviveSIGKILL")
	}
	path := os.Getenv(atomicPathEnv)
	size, err := strconv.Atoi(os.Getenv(atomicSizeEnv))
	if err != nil {
		t.Fatal(err)
	}
	switch mode {
	case "hosts":
		line := "# padding: a big file takes long enough to write that the parent can kill the writer halfway\n"
		data := []byte(hostsMarker + "server = \"https://new.example\"\n" + strings.Repeat(line, size/len(line)))
		_, err = writeHostsFile(filepath.Dir(filepath.Dir(path)), filepath.Base(filepath.Dir(path)), data)
	case "cache":
		tok := creds.Token{Password: secret.New(strings.Repeat("n", size)), ExpiresAt: time.Now().Add(time.Hour)}
		err = tokencache.New(filepath.Dir(path), nil).Put(filepath.Base(path), tok)
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestAtomicWritesSurviveSIGKILL: the daemon's hosts.toml writer and the
// token cache are killed (SIGKILL) in the middle of replacing a file with a
// big one. The file is still the old one, whole, parseable and 0600; what
// is left of the write is a 0600 temp file beside it (hosts.toml) or in
// TMPDIR (the token cache, through renameio's default temp folder).
func TestAtomicWritesSurviveSIGKILL(t *testing.T) {
	if os.Getenv(atomicChildEnv) != "" {
		t.Skip("in the writer process")
	}
	t.Run("hosts.toml", func(t *testing.T) {
		dir := t.TempDir()
		reg := parse(t, "registries:\n"+ecrRegistry("prod", "123456789012", "us-west-2", "AKIAAAAAAAAAAAAAAAAA")).Registries[0]
		old, err := renderHostsFile(reg, "AWS:old-token")
		if err != nil {
			t.Fatal(err)
		}
		path := hostsPath(dir, reg.Host)
		if _, err := writeHostsFile(dir, reg.Host, old); err != nil {
			t.Fatal(err)
		}
		atomicKillWriter(t, "hosts", path, old, func() error {
			h, err := readHosts(t, dir, reg.Host)
			if err != nil {
				return err
			}
			return wantHeader(h, "https://"+reg.Host, "AWS", "old-token")
		})
	})
	t.Run("token cache", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "state")
		cache := tokencache.New(dir, nil)
		name := tokencache.Name("0123abcd")
		if err := cache.Put(name, creds.Token{Password: secret.New("old-token"), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		old, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		atomicKillWriter(t, "cache", path, old, func() error {
			tok, err := cache.Get(name)
			if err != nil || tok.Password.Reveal() != "old-token" {
				return fmt.Errorf("the cache no longer gives the old token: %v", err)
			}
			return nil
		})
	})
}

// atomicKillWriter runs the writer child on path, SIGKILLs it once its temp
// file holds data, and checks that path still holds old and passes check.
// A writer that finished before it could be caught is run again with more
// to write.
func atomicKillWriter(t *testing.T, mode, path string, old []byte, check func() error) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(filepath.Dir(path)), "tmp") // TMPDIR, on the same file system
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	watch := []string{filepath.Dir(path), tmp}
	for _, size := range []int{8 << 20, 64 << 20, 256 << 20} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestAtomicWriterChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), atomicChildEnv+"="+mode, atomicPathEnv+"="+path,
			atomicSizeEnv+"="+strconv.Itoa(size), "TMPDIR="+tmp)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		temp, tempSize, exited := atomicWaitTemp(watch, path, done)
		if !exited {
			_ = cmd.Process.Kill()
			<-done
		}
		now, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("after the writer died: %v", err)
		}
		if exited {
			// Finished first: the file must be the new one, whole.
			if len(now) < size/2 {
				t.Fatalf("the writer exited without replacing the file (%d bytes): %s", len(now), out.String())
			}
			t.Logf("a %d MiB write finished before it could be killed; again with more", size>>20)
			if err := os.WriteFile(path, old, 0o600); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Logf("writer killed with %d KiB of %d MiB in its temp file %s", tempSize>>10, size>>20, filepath.Base(temp))
		if !bytes.Equal(now, old) {
			t.Fatalf("%s changed: %d bytes, was %d: a half-written file", path, len(now), len(old))
		}
		if err := check(); err != nil {
			t.Fatalf("the old file after the kill: %v", err)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v (%v), want 0600", path, fi.Mode().Perm(), err)
		}
		if fi, err := os.Stat(temp); err == nil && fi.Mode().Perm() != 0o600 {
			t.Errorf("the temp file holding part of the secret has mode %v, want 0600", fi.Mode().Perm())
		}
		return
	}
	t.Fatal("the writer always finished before it could be killed")
}

// atomicWaitTemp polls dirs for a file other than path (the writer's temp
// file) until it holds data; exited is true when the writer ended first.
func atomicWaitTemp(dirs []string, path string, done <-chan error) (temp string, size int64, exited bool) {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return "", 0, true
		default:
		}
		for _, d := range dirs {
			entries, _ := os.ReadDir(d)
			for _, e := range entries {
				p := filepath.Join(d, e.Name())
				if p == path || !e.Type().IsRegular() {
					continue
				}
				if fi, err := e.Info(); err == nil && fi.Size() > 0 {
					return p, fi.Size(), false
				}
			}
		}
		time.Sleep(50 * time.Microsecond)
	}
	return "", 0, false
}
