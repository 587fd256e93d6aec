package main

import (
	"archive/tar"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// The image as make image builds it: a static binary, run as 65532, and
// the binary taken back out of the written tarball runs.
func TestImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ocicred")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "ocicred")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "../../cmd/ocicred")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out := filepath.Join(dir, "image.tar")
	if err := write(bin, "ocicred/ocicred:test", runtime.GOARCH, out); err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.User != "65532:65532" || cf.OS != "linux" || len(cf.Config.Entrypoint) != 1 || cf.Config.Entrypoint[0] != "/ocicred" {
		t.Errorf("config: user %q os %s entrypoint %v", cf.Config.User, cf.OS, cf.Config.Entrypoint)
	}
	// Take the files out of the flattened filesystem, as a runtime would.
	got := map[string][]byte{}
	tr := tar.NewReader(mutate.Extract(img))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		got[h.Name] = b
		if h.Name == "ocicred" && h.Mode&0o111 == 0 {
			t.Errorf("/ocicred mode %o", h.Mode)
		}
	}
	if !strings.Contains(string(got["etc/passwd"]), ":65532:65532:") {
		t.Errorf("/etc/passwd = %q", got["etc/passwd"])
	}
	extracted := filepath.Join(dir, "from-image")
	if err := os.WriteFile(extracted, got["ocicred"], 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(extracted)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary is dynamically linked: it needs a loader the image does not have")
		}
	}
	f.Close()
	// Run it as the image's user would, with an empty environment.
	cmd := exec.Command(extracted, "version")
	cmd.Env = []string{}
	v, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(v), "ocicred") {
		t.Fatalf("ocicred version from the image: %v\n%s", err, v)
	}
	cmd = exec.Command(extracted, "controller", "--help")
	if h, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(h), "--kubeconfig") {
		t.Fatalf("controller --help: %v\n%s", err, h)
	}
}
