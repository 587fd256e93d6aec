package localreg

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Media types of the test image (OCI image spec).
const (
	MediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaTypeConfig   = "application/vnd.oci.image.config.v1+json"
	mediaTypeLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// Blob is content and its digest.
type Blob struct {
	MediaType string
	Digest    string
	Data      []byte
}

// Image is a single-platform OCI image: manifest, config and layers.
type Image struct {
	Manifest Blob
	Config   Blob
	Layers   []Blob
}

// TestImage builds a small linux/amd64 image whose one layer holds the file
// hello.txt with the given text. The same text gives the same digest.
func TestImage(text string) (Image, error) {
	tarball, err := tarFile("hello.txt", []byte(text))
	if err != nil {
		return Image{}, err
	}
	layer, err := gzipBytes(tarball)
	if err != nil {
		return Image{}, err
	}
	config, err := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"config":       map[string]any{},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{digestOf(tarball)}},
	})
	if err != nil {
		return Image{}, fmt.Errorf("encode image config: %w", err)
	}
	img := Image{
		Config: newBlob(mediaTypeConfig, config),
		Layers: []Blob{newBlob(mediaTypeLayer, layer)},
	}
	manifest, err := json.Marshal(manifestOf(img))
	if err != nil {
		return Image{}, fmt.Errorf("encode image manifest: %w", err)
	}
	img.Manifest = newBlob(MediaTypeManifest, manifest)
	return img, nil
}

type descriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int    `json:"size"`
}

type manifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Config        descriptor   `json:"config"`
	Layers        []descriptor `json:"layers"`
}

func manifestOf(img Image) manifest {
	m := manifest{SchemaVersion: 2, MediaType: MediaTypeManifest, Config: describe(img.Config)}
	for _, l := range img.Layers {
		m.Layers = append(m.Layers, describe(l))
	}
	return m
}

func describe(b Blob) descriptor {
	return descriptor{MediaType: b.MediaType, Digest: b.Digest, Size: len(b.Data)}
}

func newBlob(mediaType string, data []byte) Blob {
	return Blob{MediaType: mediaType, Digest: digestOf(data), Data: data}
}

func digestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func tarFile(name string, content []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{
		Name: name, Mode: 0o644, Size: int64(len(content)),
		ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg, Format: tar.FormatPAX,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, fmt.Errorf("tar %s: %w", name, err)
	}
	if _, err := tw.Write(content); err != nil {
		return nil, fmt.Errorf("tar %s: %w", name, err)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("tar %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

func gzipBytes(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		return nil, fmt.Errorf("gzip layer: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip layer: %w", err)
	}
	return buf.Bytes(), nil
}
