package kubeletplugin

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	credentialproviderv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
	sigsjson "sigs.k8s.io/json"

	"github.com/ocicred/ocicred/internal/creds"
)

// decodeStrict decodes an answer the way the kubelet does: unknown and
// duplicate fields are errors, and kind, apiVersion and cacheKeyType must
// be right.
func decodeStrict(t *testing.T, data []byte) credentialproviderv1.CredentialProviderResponse {
	t.Helper()
	var resp credentialproviderv1.CredentialProviderResponse
	strict, err := sigsjson.UnmarshalStrict(data, &resp)
	if err != nil || len(strict) > 0 {
		t.Fatalf("strict decode of %s: %v %v", data, err, strict)
	}
	if resp.Kind != "CredentialProviderResponse" || resp.APIVersion != "credentialprovider.kubelet.k8s.io/v1" {
		t.Fatalf("kind/apiVersion = %q/%q", resp.Kind, resp.APIVersion)
	}
	switch resp.CacheKeyType {
	case credentialproviderv1.ImagePluginCacheKeyType, credentialproviderv1.RegistryPluginCacheKeyType, credentialproviderv1.GlobalPluginCacheKeyType:
	default:
		t.Fatalf("cacheKeyType %q", resp.CacheKeyType)
	}
	return resp
}

func request(image, extra string) string {
	return `{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"` + image + `"` + extra + `}`
}

func TestRespond(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	resolve := func(_ context.Context, host string) (Answer, error) {
		switch host {
		case "123456789012.dkr.ecr.us-west-2.amazonaws.com":
			return Answer{Username: "AWS", Password: "tok", ExpiresAt: now.Add(12 * time.Hour)}, nil
		case "harbor.example.com:8443":
			return Answer{Username: "robot", Password: "pw"}, nil
		case "soon.example":
			return Answer{Username: "AWS", Password: "t2", ExpiresAt: now.Add(30 * time.Minute)}, nil
		case "broken.example":
			return Answer{}, &creds.UnavailableError{Registry: "broken", Err: errors.New("AccessDenied")}
		}
		return Answer{}, creds.ErrNotFound
	}
	tests := []struct {
		image, extra string
		host         string
		user         string
		cache        time.Duration
	}{
		{"123456789012.dkr.ecr.us-west-2.amazonaws.com/app:v1", "", "123456789012.dkr.ecr.us-west-2.amazonaws.com", "AWS", 6 * time.Hour},
		{"harbor.example.com:8443/team/app@sha256:abc", `,"serviceAccountToken":"jwt","serviceAccountAnnotations":{"a":"b"}`, "harbor.example.com:8443", "robot", StaticCacheDuration},
		{"soon.example/x", "", "soon.example", "AWS", 15 * time.Minute},
		{"nginx:latest", "", "", "", 0},
		{"other.example/x", "", "", "", 0},
	}
	for _, tt := range tests {
		req, err := ReadRequest(strings.NewReader(request(tt.image, tt.extra)))
		if err != nil {
			t.Fatalf("%s: %v", tt.image, err)
		}
		resp, err := Respond(context.Background(), req, resolve, now)
		if err != nil {
			t.Fatalf("%s: %v", tt.image, err)
		}
		data, _ := json.Marshal(resp)
		got := decodeStrict(t, data)
		if tt.host == "" {
			if len(got.Auth) != 0 {
				t.Errorf("%s: auth %v for an unmanaged image", tt.image, got.Auth)
			}
			continue
		}
		if a, ok := got.Auth[tt.host]; !ok || a.Username != tt.user || len(got.Auth) != 1 {
			t.Errorf("%s: auth = %v", tt.image, got.Auth)
		}
		if got.CacheDuration == nil || got.CacheDuration.Duration != tt.cache {
			t.Errorf("%s: cacheDuration = %v, want %v", tt.image, got.CacheDuration, tt.cache)
		}
	}
	req, _ := ReadRequest(strings.NewReader(request("broken.example/x", "")))
	if _, err := Respond(context.Background(), req, resolve, now); err == nil || !strings.Contains(err.Error(), "registry broken: AccessDenied") {
		t.Errorf("broken registry: %v", err)
	}
}

func TestReadRequestErrors(t *testing.T) {
	for in, want := range map[string]string{
		"":                 "not JSON",
		"[]":               "not JSON",
		`{"kind":"Other"}`: `kind "Other"`,
		request("", ""):    "names no image",
		strings.Replace(request("x/y", ""), "/v1", "/v1alpha1", 1): "apiVersion",
		strings.Repeat(" ", 2<<20):                                 "larger than 1 MiB",
	} {
		if _, err := ReadRequest(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadRequest(%.30q) = %v, want %q", in, err, want)
		}
	}
}

func TestImageHost(t *testing.T) {
	for image, want := range map[string]string{
		"nginx": "docker.io", "library/nginx:1": "docker.io", "docker.io/library/nginx": "docker.io",
		"localhost/x": "localhost", "127.0.0.1:5000/a/b:c": "127.0.0.1:5000", "Public.ECR.aws/x/y": "public.ecr.aws",
	} {
		if got, err := ImageHost(image); err != nil || got != want {
			t.Errorf("ImageHost(%q) = %q, %v; want %q", image, got, err, want)
		}
	}
}
