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

// hostsServer is the top of containerd's hosts.toml; the [host] table
// follows it (Render).
type hostsServer struct {
	Server string `toml:"server"`
}

type hostEntry struct {
	Capabilities []string            `toml:"capabilities"`
	CA           string              `toml:"ca,omitempty"`
	SkipVerify   bool                `toml:"skip_verify,omitempty"`
	Header       map[string][]string `toml:"header"`
}

// Render is reg's hosts.toml, starting with Marker, that sends user and
// pass as Basic credentials (an Authorization header) to reg's server with
// the capabilities pull and resolve, and reg's TLS settings. The error,
// which names no secret, is the TOML encoder's.
//
// A host entry keyed "<scheme>://<host>" under [host] is what containerd
// 1.6 needs to use the file at all, and to speak plain HTTP when it says
// http. The entry is an inline table under a plain [host] header:
// containerd 1.6's TOML parser (go-toml v1) rejects a table header
// [host."http://[::1]:5000"] whatever the quoting ("table key cannot
// contain ']'"), which would send an IPv6 registry's pulls without
// credentials, while it reads the same key inside [host].
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
	if err := toml.NewEncoder(&b).Encode(hostsServer{Server: server}); err != nil {
		return nil, fmt.Errorf("encode hosts.toml for %s: %w", reg.Host, err)
	}
	b.WriteString("\n[host]\n")
	if err := toml.NewEncoder(&b).SetTablesInline(true).Encode(map[string]hostEntry{server: entry}); err != nil {
		return nil, fmt.Errorf("encode hosts.toml for %s: %w", reg.Host, err)
	}
	return b.Bytes(), nil
}
