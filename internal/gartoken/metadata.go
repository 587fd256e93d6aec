package gartoken

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// metadataIP is the GCE metadata server's address when GCE_METADATA_HOST
// does not move it (cloud.google.com/go/compute/metadata, metadataIP).
const metadataIP = "169.254.169.254"

// metadataTokenPath is the default service account's token on the
// metadata server (cloud.google.com/compute/docs/access/authenticate-workloads).
const metadataTokenPath = "/computeMetadata/v1/instance/service-accounts/default/token"

// metadataFailure is a metadata request that failed. absent means nothing
// that speaks for Google answered at the default address: the node is no
// Google VM (for the default chain, no credentials at all).
type metadataFailure struct {
	host   string
	why    string
	absent bool
	err    error
}

func (e *metadataFailure) Error() string { return "metadata server " + e.host + ": " + e.why }
func (e *metadataFailure) Unwrap() error { return e.err }

// metadataHost is where the metadata server is: GCE_METADATA_HOST (the
// variable Google's libraries honour, host[:port]) or 169.254.169.254.
func metadataHost() (host string, moved bool) {
	if h := os.Getenv("GCE_METADATA_HOST"); h != "" {
		return h, true
	}
	return metadataIP, false
}

// metadataToken asks the metadata server for its default service
// account's token for scopes. Each attempt is bounded by the metadata
// timeout; 5xx answers and attempts that get no answer are tried again,
// up to MetadataAttempts times in all.
func (f *Fetcher) metadataToken(ctx context.Context, scopes []string) (accessToken, error) {
	host, moved := metadataHost()
	u := "http://" + host + metadataTokenPath
	if len(scopes) > 0 {
		u += "?" + url.Values{"scopes": {strings.Join(scopes, ",")}}.Encode()
	}
	var err error
	for attempt := range MetadataAttempts {
		if attempt > 0 {
			t := time.NewTimer(f.metaBackoff << (attempt - 1))
			select {
			case <-ctx.Done():
				t.Stop()
				return accessToken{}, f.metadataFailed(ctx, host, moved, ctx.Err())
			case <-t.C:
			}
		}
		var tok accessToken
		var retry bool
		tok, retry, err = f.metadataOnce(ctx, u)
		if err == nil {
			return tok, nil
		}
		if !retry || ctx.Err() != nil {
			break
		}
	}
	return accessToken{}, f.metadataFailed(ctx, host, moved, err)
}

// metadataFailed explains a failed metadata request. When nothing could
// even be dialled at the default address, the node is no Google VM: the
// failure is marked absent. A metadata server that was reached but did
// not answer in time is unreachable, as is one that GCE_METADATA_HOST
// names, and so is a fetch whose ctx ended.
func (f *Fetcher) metadataFailed(ctx context.Context, host string, moved bool, err error) error {
	var fl *Failure
	if errors.As(err, &fl) {
		return err
	}
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	e := explain(err, "the metadata server at "+host, 0)
	var oe *net.OpError
	if !moved && errors.As(err, &oe) && oe.Op == "dial" {
		return &metadataFailure{host: host, why: "nothing answers there", absent: true, err: e}
	}
	return e
}

// metadataOnce is one request to the metadata server. It reports whether
// a failure is worth another attempt.
func (f *Fetcher) metadataOnce(ctx context.Context, u string) (accessToken, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, f.metaTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return accessToken{}, false, fail(KindBadCredentials, "", "GCE_METADATA_HOST does not make a URL: "+oneLine(err.Error()), err)
	}
	req.Header.Set("Metadata-Flavor", "Google")
	req.Header.Set("User-Agent", "ocicred")
	resp, err := (&http.Client{Transport: f.metaTransport}).Do(req)
	if err != nil {
		return accessToken{}, true, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	what := "the metadata server at " + req.URL.Host
	switch {
	case err != nil:
		return accessToken{}, true, err
	case resp.Header.Get("Metadata-Flavor") != "Google":
		// Something answered, but not a metadata server (a proxy, a
		// captive portal): do not trust it with anything.
		return accessToken{}, false, fail(KindBadAnswer, fmt.Sprint(resp.StatusCode),
			what+" answered without the header Metadata-Flavor: Google", nil)
	case resp.StatusCode == http.StatusNotFound:
		return accessToken{}, false, fail(KindNoServiceAccount, "404", what+" has no default service account (404)", nil)
	case resp.StatusCode >= 500:
		return accessToken{}, true, fail(KindUnreachable, fmt.Sprint(resp.StatusCode), fmt.Sprintf("%s answered %d", what, resp.StatusCode), nil)
	case resp.StatusCode != http.StatusOK:
		return accessToken{}, false, fail(KindOther, fmt.Sprint(resp.StatusCode), fmt.Sprintf("%s answered %d: %s", what, resp.StatusCode, oneLine(string(body))), nil)
	}
	var a struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	switch {
	case json.Unmarshal(body, &a) != nil:
		return accessToken{}, true, fail(KindBadAnswer, "", what+" answered a token that is not JSON", nil)
	case a.AccessToken == "":
		return accessToken{}, false, fail(KindBadAnswer, "", what+" answered no access_token", nil)
	case a.ExpiresIn <= 0:
		return accessToken{}, false, fail(KindBadAnswer, "", fmt.Sprintf("%s answered a token with expires_in %d", what, a.ExpiresIn), nil)
	}
	return accessToken{value: a.AccessToken, expires: f.now().Add(time.Duration(a.ExpiresIn) * time.Second)}, false, nil
}
