package localreg

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Credential is a Basic user name and password; the zero value is anonymous.
type Credential struct {
	Username string
	Password string
}

// Client speaks just enough of the distribution API to push and pull a
// single-platform image, with Basic credentials on every request.
type Client struct {
	// BaseURL is the registry's base URL, e.g. http://127.0.0.1:5000.
	BaseURL string
	// Cred is sent on every request unless it is the zero value.
	Cred Credential
	// HTTP defaults to http.DefaultClient.
	HTTP *http.Client
}

// StatusError is an unexpected HTTP status from the registry.
type StatusError struct {
	Method, URL string
	StatusCode  int
	Body        string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s: %s", e.Method, e.URL, e.StatusCode,
		http.StatusText(e.StatusCode), strings.TrimSpace(e.Body))
}

// Push uploads the image's blobs and then its manifest under repo:tag, and
// returns the manifest digest.
func (c *Client) Push(ctx context.Context, repo, tag string, img Image) (string, error) {
	for _, b := range append([]Blob{img.Config}, img.Layers...) {
		if err := c.pushBlob(ctx, repo, b); err != nil {
			return "", fmt.Errorf("push %s: %w", repo, err)
		}
	}
	u := c.BaseURL + "/v2/" + repo + "/manifests/" + tag
	hdr := http.Header{"Content-Type": {img.Manifest.MediaType}}
	if _, err := c.do(ctx, http.MethodPut, u, hdr, img.Manifest.Data, http.StatusCreated); err != nil {
		return "", fmt.Errorf("push %s:%s: %w", repo, tag, err)
	}
	return img.Manifest.Digest, nil
}

// pushBlob starts an upload session and completes it in one PUT.
func (c *Client) pushBlob(ctx context.Context, repo string, b Blob) error {
	start := c.BaseURL + "/v2/" + repo + "/blobs/uploads/"
	resp, err := c.do(ctx, http.MethodPost, start, nil, nil, http.StatusAccepted)
	if err != nil {
		return fmt.Errorf("start upload of %s: %w", b.Digest, err)
	}
	loc, err := uploadURL(start, resp.Header.Get("Location"), b.Digest)
	if err != nil {
		return err
	}
	hdr := http.Header{"Content-Type": {"application/octet-stream"}}
	if _, err := c.do(ctx, http.MethodPut, loc, hdr, b.Data, http.StatusCreated); err != nil {
		return fmt.Errorf("upload %s: %w", b.Digest, err)
	}
	return nil
}

// uploadURL resolves the upload Location (often relative, sometimes with its
// own query) and adds the digest that completes the upload.
func uploadURL(base, location, digest string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("parse %q: %w", base, err)
	}
	loc, err := b.Parse(location)
	if err != nil {
		return "", fmt.Errorf("parse upload location %q: %w", location, err)
	}
	q := loc.Query()
	q.Set("digest", digest)
	loc.RawQuery = q.Encode()
	return loc.String(), nil
}

// FetchManifest GETs repo's manifest by tag or digest and returns it with the
// digest of the bytes received.
func (c *Client) FetchManifest(ctx context.Context, repo, ref string) (Blob, error) {
	u := c.BaseURL + "/v2/" + repo + "/manifests/" + ref
	hdr := http.Header{"Accept": {MediaTypeManifest + ", application/vnd.docker.distribution.manifest.v2+json"}}
	resp, err := c.do(ctx, http.MethodGet, u, hdr, nil, http.StatusOK)
	if err != nil {
		return Blob{}, fmt.Errorf("fetch manifest %s:%s: %w", repo, ref, err)
	}
	return newBlob(resp.Header.Get("Content-Type"), resp.body), nil
}

// Pull fetches the manifest and every blob it names, checks each digest, and
// returns the manifest digest.
func (c *Client) Pull(ctx context.Context, repo, ref string) (string, error) {
	m, err := c.FetchManifest(ctx, repo, ref)
	if err != nil {
		return "", err
	}
	var man manifest
	if err := json.Unmarshal(m.Data, &man); err != nil {
		return "", fmt.Errorf("decode manifest of %s:%s: %w", repo, ref, err)
	}
	for _, d := range append([]descriptor{man.Config}, man.Layers...) {
		if err := c.fetchBlob(ctx, repo, d.Digest); err != nil {
			return "", fmt.Errorf("pull %s:%s: %w", repo, ref, err)
		}
	}
	return m.Digest, nil
}

func (c *Client) fetchBlob(ctx context.Context, repo, digest string) error {
	resp, err := c.do(ctx, http.MethodGet, c.BaseURL+"/v2/"+repo+"/blobs/"+digest, nil, nil, http.StatusOK)
	if err != nil {
		return fmt.Errorf("fetch blob: %w", err)
	}
	if got := digestOf(resp.body); got != digest {
		return fmt.Errorf("blob %s: content has digest %s", digest, got)
	}
	return nil
}

// response is an http.Response whose body has been read.
type response struct {
	*http.Response
	body []byte
}

func (c *Client) do(ctx context.Context, method, u string, hdr http.Header, body []byte, want int) (*response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if c.Cred != (Credential{}) {
		req.SetBasicAuth(c.Cred.Username, c.Cred.Password)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", method, u, err)
	}
	if resp.StatusCode != want {
		return nil, &StatusError{Method: method, URL: u, StatusCode: resp.StatusCode, Body: string(data)}
	}
	return &response{Response: resp, body: data}, nil
}
