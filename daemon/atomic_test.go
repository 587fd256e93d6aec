package daemon

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/containerdhosts"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/secret"
	"github.com/ocicred/ocicred/internal/tokencache"
)

// The writer child: this test binary run again with atomicChildEnv set to
// "hosts" or "cache" (TestMain sends it to runAtomicWriter), writing a file
// of atomicSizeEnv bytes at atomicPathEnv the way the daemon does.
const (
	atomicChildEnv = "OCICRED_ATOMIC_CHILD"
	atomicPathEnv  = "OCICRED_ATOMIC_PATH"
	atomicSizeEnv  = "OCICRED_ATOMIC_SIZE"
)

// atomicRegistry is the registry whose hosts.toml the writer child writes.
func atomicRegistry() (*config.Registry, error) {
	c, err := config.Parse([]byte("registries:\n"+ecrRegistry("prod", "123456789012", "us-west-2", "AKIAAAAAAAAAAAAAAAAA")), "c.yaml")
	if err != nil {
		return nil, err
	}
	return c.Registries[0], nil
}

// atomicHostsFile is reg's hosts.toml with a token of size bytes: big
// enough, the writer child takes long enough to write it that the parent
// can kill it halfway.
func atomicHostsFile(reg *config.Registry, size int) (containerdhosts.File, error) {
	f, _, err := containerdhosts.FileFor(reg, func(*config.Registry) (creds.Token, bool) {
		return creds.Token{Password: secret.New(strings.Repeat("n", size))}, true
	})
	return f, err
}

// runAtomicWriter is the writer process that TestAtomicWritesSurviveSIGKILL
// kills mid-write; it returns its exit status.
func runAtomicWriter() int {
	mode, path := os.Getenv(atomicChildEnv), os.Getenv(atomicPathEnv)
	size, err := strconv.Atoi(os.Getenv(atomicSizeEnv))
	if err == nil {
		switch mode {
		case "hosts":
			var reg *config.Registry
			var f containerdhosts.File
			if reg, err = atomicRegistry(); err == nil {
				if f, err = atomicHostsFile(reg, size); err == nil {
					_, err = containerdhosts.Write(filepath.Dir(filepath.Dir(path)), f)
				}
			}
		case "cache":
			tok := creds.Token{Password: secret.New(strings.Repeat("n", size)), ExpiresAt: time.Now().Add(time.Hour)}
			err = tokencache.New(filepath.Dir(path), nil).Put(filepath.Base(path), tok)
		default:
			err = fmt.Errorf("unknown mode %q", mode)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "atomic writer:", err)
		return 1
	}
	return 0
}

// TestAtomicWritesSurviveSIGKILL: the daemon's hosts.toml writer and the
// token cache are killed (SIGKILL) in the middle of replacing a file with a
// big one. The file is still the old one, whole, parseable and 0600; what
// is left of the write is a 0600 temp file beside it (hosts.toml) or in
// TMPDIR (the token cache, through renameio's default temp folder).
func TestAtomicWritesSurviveSIGKILL(t *testing.T) {
	t.Run("hosts.toml", func(t *testing.T) {
		dir := t.TempDir()
		reg, err := atomicRegistry()
		if err != nil {
			t.Fatal(err)
		}
		oldFile, _, err := containerdhosts.FileFor(reg, func(*config.Registry) (creds.Token, bool) {
			return creds.Token{Password: secret.New("old-token")}, true
		})
		if err != nil {
			t.Fatal(err)
		}
		old := oldFile.Data()
		path := containerdhosts.Path(dir, reg.Host)
		if _, err := containerdhosts.Write(dir, oldFile); err != nil {
			t.Fatal(err)
		}
		atomicKillWriter(t, "hosts", path, old, func() error {
			h, err := readHosts(t, dir, reg.Host)
			if err != nil {
				return err
			}
			return wantHeader(h, "https://"+reg.Host, "AWS", "old-token")
		}, func(size int) bool {
			now, err := os.ReadFile(path)
			f, ferr := atomicHostsFile(reg, size)
			return err == nil && ferr == nil && bytes.Equal(now, f.Data())
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
		}, func(size int) bool {
			// Read raw: the new file is bigger than the cache reads (a real
			// token is about 2 KiB), as it must be to be killed mid-write.
			data, err := os.ReadFile(path)
			var e struct{ Password string }
			return err == nil && json.Unmarshal(data, &e) == nil && e.Password == strings.Repeat("n", size)
		})
	})
}

// atomicKillWriter runs the writer child on path and SIGKILLs it once its
// temp file holds data. The file must then be either old, whole (passing
// check), or the writer's new file, whole (isNew: the writer got to its
// rename before the kill landed); anything else is a half-written file.
// A writer that could not be caught mid-write is run again with more to
// write.
func atomicKillWriter(t *testing.T, mode, path string, old []byte, check func() error, isNew func(size int) bool) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(filepath.Dir(path)), "tmp") // TMPDIR, on the same file system
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{8 << 20, 64 << 20, 256 << 20} {
		// Watched from before the child starts: its first write is an event.
		watch, err := fsnotify.NewWatcher()
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{filepath.Dir(path), tmp} {
			if err := watch.Add(d); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), atomicChildEnv+"="+mode, atomicPathEnv+"="+path,
			atomicSizeEnv+"="+strconv.Itoa(size), "TMPDIR="+tmp)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		temp, tempSize, exited := atomicWaitTemp(t, watch, path, done)
		_ = watch.Close()
		if !exited {
			_ = cmd.Process.Kill()
			<-done
		}
		now, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("after the writer died: %v", err)
		}
		if exited || !bytes.Equal(now, old) {
			// Not caught mid-write: the rename came first, so the file
			// must be the new one, whole.
			if !isNew(size) {
				t.Fatalf("%s is %d bytes, neither the old file (%d) nor the new one, whole: a half-written file (writer exited by itself: %v) %s",
					path, len(now), len(old), exited, out.String())
			}
			t.Logf("a %d MiB write was renamed into place before it could be killed; again with more", size>>20)
			if err := os.WriteFile(path, old, 0o600); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Logf("writer killed with %d KiB of %d MiB in its temp file %s", tempSize>>10, size>>20, filepath.Base(temp))
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

// atomicWaitTemp waits for the watcher's first write to a file other than
// path (the writer's temp file) that holds data; exited is true when the
// writer ended first.
func atomicWaitTemp(t *testing.T, watch *fsnotify.Watcher, path string, done <-chan error) (temp string, size int64, exited bool) {
	t.Helper()
	guard := time.NewTimer(eventGuard)
	defer guard.Stop()
	for {
		select {
		case <-done:
			return "", 0, true
		case ev := <-watch.Events:
			if ev.Name == path || !ev.Has(fsnotify.Write) {
				continue
			}
			if fi, err := os.Lstat(ev.Name); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
				return ev.Name, fi.Size(), false
			}
		case err := <-watch.Errors:
			t.Fatalf("watch the writer's folders: %v", err)
		case <-guard.C:
			t.Fatalf("the writer neither wrote nor ended in %s", eventGuard)
		}
	}
}
