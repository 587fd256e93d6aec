// Command ociimage builds ocicred's container image without a Docker
// daemon, with go-containerregistry: one layer on nothing (no shell, no
// libc) holding the static ocicred binary at /ocicred and an /etc/passwd
// and /etc/group naming the non-root user 65532, which the image runs as.
// It writes a tarball that docker load, crane push and skopeo read:
//
//	go run ./internal/ociimage -bin dist/image/ocicred -tag ocicred/ocicred:v1 -o dist/ocicred-image.tar
//
// `make image` builds the binary (CGO_ENABLED=0) and runs this.
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// User is the uid and gid the image runs as (distroless's "nonroot").
const User = "65532:65532"

func main() {
	bin := flag.String("bin", "", "the static ocicred binary")
	tag := flag.String("tag", "ocicred/ocicred:dev", "the image's name in the tarball")
	out := flag.String("o", "dist/ocicred-image.tar", "the tarball to write")
	arch := flag.String("arch", runtime.GOARCH, "the binary's architecture")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "ociimage: -bin is required")
		os.Exit(2)
	}
	if err := write(*bin, *tag, *arch, *out); err != nil {
		fmt.Fprintln(os.Stderr, "ociimage:", err)
		os.Exit(1)
	}
}

func write(bin, tag, arch, out string) error {
	ref, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("-tag: %w", err)
	}
	img, err := build(bin, arch)
	if err != nil {
		return err
	}
	return tarball.WriteToFile(out, ref, img)
}

// build is the image of binary bin for linux/arch.
func build(bin, arch string) (v1.Image, error) {
	exe, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	layerTar, err := rootfs(exe)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerTar)), nil })
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Config.User = User
	cf.Config.Entrypoint = []string{"/ocicred"}
	cf.Config.Labels = map[string]string{"org.opencontainers.image.title": "ocicred"}
	return mutate.ConfigFile(img, cf)
}

// rootfs is the layer: the binary and the files naming the user. Times are
// fixed so that equal binaries give equal layers.
func rootfs(exe []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	files := []struct {
		name string
		mode int64
		body []byte
	}{
		{"etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{"etc/group", 0o644, []byte("root:x:0:\nnonroot:x:65532:\n")},
		{"ocicred", 0o755, exe},
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755, ModTime: epoch}); err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode, Size: int64(len(f.body)), ModTime: epoch}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
