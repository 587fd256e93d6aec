package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ocicred/ocicred/test/e2e/localreg"
)

// Image is what a test pushed: the digests of its manifest, its config
// blob and its layer blobs, and the layers' uncompressed digests (diff
// ids, which is how docker and podman store them). Clients are checked
// against it by what they wrote, blob by blob, not by a digest they print.
type Image struct {
	Manifest string
	Config   string
	Layers   []string
	DiffIDs  []string
}

// imageOf is the Image of localreg.TestImage(text), the image PushImage
// pushes.
func imageOf(t testing.TB, text string) Image {
	t.Helper()
	img, err := localreg.TestImage(text)
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	out := Image{Manifest: d.String(), Config: m.Config.Digest.String()}
	for _, l := range m.Layers {
		out.Layers = append(out.Layers, l.Digest.String())
	}
	for _, id := range cf.RootFS.DiffIDs {
		out.DiffIDs = append(out.DiffIDs, id.String())
	}
	return out
}

// Blobs are the image's config and layer digests.
func (img Image) Blobs() []string { return append([]string{img.Config}, img.Layers...) }

// manifestBlobs reads the config and layer digests an OCI or Docker v2
// manifest names.
func manifestBlobs(data []byte) (config string, layers []string, err error) {
	var m struct {
		Config struct{ Digest string }   `json:"config"`
		Layers []struct{ Digest string } `json:"layers"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return "", nil, fmt.Errorf("manifest: %w", err)
	}
	for _, l := range m.Layers {
		layers = append(layers, l.Digest)
	}
	return m.Config.Digest, layers, nil
}

// checkWrittenBlobs checks that a client wrote the manifest and every blob
// of want, each file's content hashing to its digest: read(digest) is the
// file the client wrote for that digest.
func checkWrittenBlobs(t testing.TB, client string, want Image, manifest []byte, read func(digest string) ([]byte, error)) {
	t.Helper()
	if got := DigestOf(manifest); got != want.Manifest {
		t.Errorf("%s wrote a manifest of digest %s, pushed %s", client, got, want.Manifest)
	}
	config, layers, err := manifestBlobs(manifest)
	if err != nil {
		t.Fatalf("%s: %v", client, err)
	}
	if config != want.Config || !slices.Equal(layers, want.Layers) {
		t.Errorf("%s's manifest names config %s and layers %v; pushed %s and %v", client, config, layers, want.Config, want.Layers)
	}
	for _, d := range want.Blobs() {
		data, err := read(d)
		switch {
		case err != nil:
			t.Errorf("%s did not write blob %s: %v", client, d, err)
		case DigestOf(data) != d:
			t.Errorf("%s wrote blob %s with content of digest %s", client, d, DigestOf(data))
		}
	}
}

// checkOCILayout checks an OCI image layout a client wrote in dir: its
// index names want's manifest, and the manifest and every blob are there
// under blobs/sha256, whole. It returns the manifest digest the index
// names ("" when none).
func checkOCILayout(t testing.TB, client, dir string, want Image) string {
	t.Helper()
	var index struct {
		Manifests []struct{ Digest string } `json:"manifests"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err == nil {
		err = json.Unmarshal(data, &index)
	}
	if err != nil || len(index.Manifests) != 1 {
		t.Fatalf("%s wrote no OCI layout with one manifest in %s: %v (%d manifests)", client, dir, err, len(index.Manifests))
	}
	blob := func(digest string) ([]byte, error) {
		hex, ok := strings.CutPrefix(digest, "sha256:")
		if !ok {
			return nil, fmt.Errorf("digest %q is not sha256", digest)
		}
		return os.ReadFile(filepath.Join(dir, "blobs", "sha256", hex))
	}
	got := index.Manifests[0].Digest
	manifest, err := blob(got)
	if err != nil {
		t.Fatalf("%s's layout names manifest %s but holds no such blob: %v", client, got, err)
	}
	checkWrittenBlobs(t, client, want, manifest, blob)
	return got
}
