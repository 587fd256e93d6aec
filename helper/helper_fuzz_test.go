package helper

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/ocicred/ocicred/internal/hostkey"
)

// fuzzSecret is what the fallback answers with; it must reach stdout in
// a credentials answer and nowhere else.
const fuzzSecret = "fallback-secret-7f3c9a1e"

// FuzzHelperGet sends arbitrary stdin to `docker-credential-ocicred get`
// with no daemon listening, so every valid address goes to the fallback.
// It holds that the helper never panics; that a success is one
// credentials JSON for exactly the address sent, with what the fallback
// answered; that an unmanaged address gets docker's exact not-found
// text; that garbage is refused as an invalid server address without
// asking the fallback; and that no error carries the fallback's secret.
func FuzzHelperGet(f *testing.F) {
	for _, s := range []string{
		"127.0.0.1:5000", "127.0.0.1:5000\n", "https://index.docker.io/v1/", "managed.example/team/app",
		"broken.example", "other.example", "", "   \n", "not a host", "\x00\x01\xff", "[::1]:5000",
		"line1\nline2", "managed.example\r\n", strings.Repeat("a", 300) + " b",
	} {
		f.Add([]byte(s))
	}
	sock := filepath.Join(f.TempDir(), "no-daemon.sock")
	var asked []string
	h := New(Options{
		ConfigPath: "/nonexistent/config.yaml",
		Socket:     sock,
		Fallback: func(_ context.Context, server string, _ bool) (string, string, error) {
			asked = append(asked, server)
			key, err := hostkey.Key(server)
			switch {
			case err != nil:
				return "", "", errors.New("the fallback was given an invalid address")
			case key == "127.0.0.1:5000" || key == "managed.example":
				return "fuzz-user", fuzzSecret, nil
			case key == "broken.example":
				// A failing fallback that still hands back the secret: it
				// must not reach the error text.
				return "fuzz-user", fuzzSecret, errors.New("registry broken: AccessDenied")
			}
			return "", "", credentials.NewErrCredentialsNotFound()
		},
		FallbackList: func(context.Context, bool) (map[string]string, error) {
			return map[string]string{"127.0.0.1:5000": "fuzz-user"}, nil
		},
	})
	f.Fuzz(func(t *testing.T, stdin []byte) {
		asked = asked[:0]
		var out bytes.Buffer
		err := credentials.HandleCommand(h, "get", bytes.NewReader(stdin), &out)

		if errors.Is(err, bufio.ErrTooLong) {
			return // a line over 64 KiB: docker's reader refuses it first
		}
		server := dockerServer(stdin)
		key, keyErr := hostkey.Key(server)
		if err != nil {
			if out.Len() != 0 {
				t.Fatalf("get %q failed (%v) but wrote %q", stdin, err, out.String())
			}
			if strings.Contains(err.Error(), fuzzSecret) && !bytes.Contains(stdin, []byte(fuzzSecret)) {
				t.Fatalf("get %q: the error %q holds the fallback's secret", stdin, err)
			}
		}
		if len(asked) > 1 || len(asked) == 1 && asked[0] != server {
			t.Fatalf("get %q: the fallback was asked %q, want at most [%q]", stdin, asked, server)
		}
		switch {
		case keyErr != nil:
			if len(asked) != 0 {
				t.Fatalf("get %q: the fallback was asked although the address is invalid", stdin)
			}
			if err == nil {
				t.Fatalf("get %q: an invalid address was answered: %q", stdin, out.String())
			}
			if server != "" && !errors.Is(err, hostkey.ErrBadAddress) {
				t.Fatalf("get %q: error %q does not say the address is invalid", stdin, err)
			}
		case len(asked) != 1:
			t.Fatalf("get %q: the fallback was not asked, though the daemon is down (err %v)", stdin, err)
		case key == "127.0.0.1:5000" || key == "managed.example":
			if err != nil {
				t.Fatalf("get %q: %v", stdin, err)
			}
			var c credentials.Credentials
			dec := json.NewDecoder(&out)
			dec.DisallowUnknownFields()
			if err := dec.Decode(&c); err != nil || dec.More() {
				t.Fatalf("get %q wrote %q: not one credentials JSON (%v)", stdin, out.String(), err)
			}
			// JSON writes each byte of invalid UTF-8 as U+FFFD, as []rune does.
			if c != (credentials.Credentials{ServerURL: string([]rune(server)), Username: "fuzz-user", Secret: fuzzSecret}) {
				t.Fatalf("get %q answered %+v", stdin, c)
			}
		case key == "broken.example":
			if err == nil || err.Error() != "registry broken: AccessDenied" {
				t.Fatalf("get %q = %q, %v; want the fallback's reason", stdin, out.String(), err)
			}
		default:
			if err == nil || err.Error() != "credentials not found in native keychain" {
				t.Fatalf("get %q = %q, %v; want docker's exact not-found text", stdin, out.String(), err)
			}
		}
	})
}

// dockerServer is what docker's credentials.Get makes of stdin: its lines,
// each without a final \r, joined and trimmed.
func dockerServer(stdin []byte) string {
	var b strings.Builder
	for _, line := range strings.Split(string(stdin), "\n") {
		b.WriteString(strings.TrimSuffix(line, "\r"))
	}
	return strings.TrimSpace(b.String())
}
