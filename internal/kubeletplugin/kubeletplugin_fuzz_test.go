package kubeletplugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/ocicred/ocicred/config"
)

// FuzzReadRequest holds that ReadRequest never panics and accepts only a
// well-formed request, that what it accepts reads back the same once
// re-encoded, and that the answer to it is one the kubelet's strict
// decoder takes, keyed by the image's host.
func FuzzReadRequest(f *testing.F) {
	for _, s := range []string{
		request("123456789012.dkr.ecr.us-west-2.amazonaws.com/app:v1", ""),
		request("harbor.example.com:8443/team/app@sha256:abc", `,"serviceAccountToken":"jwt","serviceAccountAnnotations":{"a":"b"}`),
		request("nginx", ""),
		request("LOCALHOST:5000/x", ""),
		request("[::1]:5000/x", ""),
		request("bad host!/x", ""),
		request("", ""),
		`{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1alpha1","image":"x/y"}`,
		`{"KIND":"CredentialProviderRequest","apiversion":"credentialprovider.kubelet.k8s.io/v1","image":"a.b/c","image":"d.e/f"}`,
		`[]`, `{"image":1}`, "",
	} {
		f.Add([]byte(s), int64(0))
	}
	f.Add([]byte(request("soon.example/x", "")), int64(1800))
	f.Add([]byte(request("gone.example/x", "")), int64(-60))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte, expiresIn int64) {
		req, err := ReadRequest(bytes.NewReader(data))
		if err != nil {
			return
		}
		if req.Kind != KindRequest || req.APIVersion != APIVersionV1 || req.Image == "" {
			t.Fatalf("ReadRequest(%q) accepted %+v", data, req)
		}
		again, _ := json.Marshal(req)
		req2, err := ReadRequest(bytes.NewReader(again))
		if err != nil || !sameRequest(req, req2) {
			t.Fatalf("ReadRequest(%q) = %+v; re-encoded as %s it reads %+v, %v", data, req, again, req2, err)
		}

		var expires time.Time
		if expiresIn != 0 {
			expires = now.Add(time.Duration(expiresIn%(100*365*24*3600)) * time.Second)
		}
		var asked []string
		resolve := func(_ context.Context, host string) (Answer, error) {
			asked = append(asked, host)
			return Answer{Username: "fuzz-user", Password: "fuzz-password", ExpiresAt: expires}, nil
		}
		host, hostErr := ImageHost(req.Image)
		resp, err := Respond(context.Background(), req, resolve, now)
		if hostErr != nil {
			if err == nil || !errors.Is(err, config.ErrBadAddress) {
				t.Fatalf("image %q: ImageHost fails (%v) but Respond = %+v, %v", req.Image, hostErr, resp, err)
			}
			if len(asked) != 0 {
				t.Fatalf("image %q: resolve asked for %q although the host is invalid", req.Image, asked)
			}
			return
		}
		if err != nil {
			t.Fatalf("image %q (host %q): Respond: %v", req.Image, host, err)
		}
		if len(asked) != 1 || asked[0] != host {
			t.Fatalf("image %q: resolve asked for %q, want [%q]", req.Image, asked, host)
		}
		out, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		got := decodeStrict(t, out)
		a, ok := got.Auth[host]
		if !ok || len(got.Auth) != 1 || a.Username != "fuzz-user" || a.Password != "fuzz-password" {
			t.Fatalf("image %q: auth = %v, want one entry for %q", req.Image, got.Auth, host)
		}
		if got.CacheDuration == nil {
			t.Fatalf("image %q: no cacheDuration in %s", req.Image, out)
		}
		d := got.CacheDuration.Duration
		switch {
		case expires.IsZero() && d != StaticCacheDuration:
			t.Fatalf("static credentials cached for %v, want %v", d, StaticCacheDuration)
		case !expires.IsZero() && (d < 0 || d > MaxCacheDuration || d > max(expires.Sub(now), 0)):
			t.Fatalf("a token expiring in %v cached for %v", expires.Sub(now), d)
		}
	})
}

// sameRequest compares requests, taking an empty annotation map for none
// (omitempty drops it on the way out).
func sameRequest(a, b Request) bool {
	return a.Kind == b.Kind && a.APIVersion == b.APIVersion && a.Image == b.Image &&
		a.ServiceAccountToken == b.ServiceAccountToken && maps.Equal(a.ServiceAccountAnnotations, b.ServiceAccountAnnotations)
}
