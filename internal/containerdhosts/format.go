package containerdhosts

import (
	"bytes"
	"encoding/base64"
	"fmt"

	"github.com/pelletier/go-toml/v2"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/secret"
)

// FileName is the file containerd reads in each host's folder.
const FileName = "hosts.toml"

// FileMode is the mode of every hosts.toml ocicred writes: it holds a
// credential.
const FileMode = 0o600

// Marker is the first line of every hosts.toml ocicred writes. A file that
// does not start with it is someone else's: never written over, never
// removed.
const Marker = "# written by ocicred: it rewrites this file on every credential change and removes it when the registry leaves the config; do not edit\n"

// markerPrefix is what identifies the marker, whatever its wording later.
const markerPrefix = "# written by ocicred"

// IsOurs reports whether data is a hosts.toml that ocicred wrote: it
// starts with the marker.
func IsOurs(data []byte) bool { return bytes.HasPrefix(data, []byte(markerPrefix)) }

// dockerHubServer is where containerd pulls docker.io images from.
const dockerHubServer = "https://registry-1.docker.io"

// hostEntry is one host's settings in containerd's hosts.toml: at the top
// of the file for the server, and in the [host] table keyed by a URL.
type hostEntry struct {
	Capabilities []string            `toml:"capabilities"`
	CA           string              `toml:"ca,omitempty"`
	SkipVerify   bool                `toml:"skip_verify,omitempty"`
	Header       map[string][]string `toml:"header"`
}

// serverEntry is the top of the file: the server and its own settings.
type serverEntry struct {
	Server string `toml:"server"`
	hostEntry
}

// Render is reg's hosts.toml, starting with Marker, that sends user and
// pass as Basic credentials (an Authorization header) to reg's server with
// the capabilities pull and resolve, and reg's TLS settings. The error,
// which names no secret, is the TOML encoder's.
//
// The settings are written twice, for the two parsers containerd has had:
//   - Under [host], keyed "<scheme>://<host>", for containerd 1.6 and 1.7
//     (go-toml v1), which ignore a file without a [host] table. The entry
//     is an inline table under a plain [host] header: their parser rejects
//     a table header [host."http://[::1]:5000"] whatever the quoting
//     ("table key cannot contain ']'"), which would send an IPv6
//     registry's pulls without credentials, while it reads the same key
//     inside [host].
//   - At the top of the file, beside server, for containerd 2.x, which
//     takes its [host] entries only from table headers ([host."..."]) and
//     so ignores the inline one: the top-level settings are the server's
//     own, read by every version since 1.5.
//
// containerd 1.6 then tries the [host] entry, then the server: the same
// URL with the same settings.
func Render(reg *config.Registry, user string, pass secret.Secret) ([]byte, error) {
	server := reg.ServerURL()
	if reg.Host == "docker.io" {
		server = dockerHubServer
	}
	entry := hostEntry{
		Capabilities: []string{"pull", "resolve"},
		Header:       map[string][]string{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass.Reveal()))}},
	}
	if reg.TLS != nil {
		entry.CA, entry.SkipVerify = reg.TLS.CA, reg.TLS.InsecureSkipVerify
	}
	var b bytes.Buffer
	b.WriteString(Marker)
	if err := toml.NewEncoder(&b).SetTablesInline(true).Encode(serverEntry{Server: server, hostEntry: entry}); err != nil {
		return nil, fmt.Errorf("encode hosts.toml for %s: %w", reg.Host, err)
	}
	b.WriteString("\n[host]\n")
	if err := toml.NewEncoder(&b).SetTablesInline(true).Encode(map[string]hostEntry{server: entry}); err != nil {
		return nil, fmt.Errorf("encode hosts.toml for %s: %w", reg.Host, err)
	}
	return b.Bytes(), nil
}
