package localreg

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/crane"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// TestImage is a small linux/amd64 OCI image whose one layer holds the file
// hello.txt with the given text. It is reproducible: the same text gives the
// same digest.
func TestImage(text string) (v1.Image, error) {
	layer, err := crane.Layer(map[string][]byte{"hello.txt": []byte(text)})
	if err != nil {
		return nil, fmt.Errorf("test image layer: %w", err)
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	base, err = mutate.ConfigFile(base, &v1.ConfigFile{
		Architecture: "amd64", OS: "linux", RootFS: v1.RootFS{Type: "layers"},
	})
	if err != nil {
		return nil, fmt.Errorf("test image config: %w", err)
	}
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, MediaType: types.OCILayer})
	if err != nil {
		return nil, fmt.Errorf("test image: %w", err)
	}
	return img, nil
}

// PushTestImage pushes TestImage(text) to repo:tag on r with auth, and
// returns its manifest digest.
func (r *Registry) PushTestImage(ctx context.Context, repo, tag, text string, auth authn.Authenticator) (string, error) {
	img, err := TestImage(text)
	if err != nil {
		return "", err
	}
	ref, err := r.Tag(repo, tag)
	if err != nil {
		return "", err
	}
	if err := remote.Write(ref, img, remote.WithAuth(auth), remote.WithContext(ctx)); err != nil {
		return "", fmt.Errorf("push %s: %w", ref, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return "", fmt.Errorf("digest of %s: %w", ref, err)
	}
	return digest.String(), nil
}
