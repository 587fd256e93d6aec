package containerdhosts

import (
	"path/filepath"
	"strings"
)

// Folder is the name of the folder, in the hosts folder, that ocicred
// writes host's hosts.toml into: the host as the config writes it
// ("registry.example", "127.0.0.1:5000", "[::1]:5000"). containerd reads
// it for host whenever no folder in the host_port_ form exists (see
// ContainerdFolders), and every containerd since 1.5 does.
func Folder(host string) string { return host }

// Path is where ocicred writes host's hosts.toml below dir.
func Path(dir, host string) string { return filepath.Join(dir, Folder(host), FileName) }

// ContainerdFolders are the folders, in the order containerd tries them,
// where containerd looks for the hosts.toml of host (a host or host:port,
// as in an image reference): for a host with a port, first the host_port_
// form ("127.0.0.1_5000_", "[::1]_5000_"), then the host as it is, then
// "_default". containerd takes the first folder that exists, whether or
// not it holds a hosts.toml. The rule is containerd's hostPaths and
// hostDirectory (core/remotes/docker/config/hosts.go), which replace the
// last ":" and what follows by "_<port>_".
func ContainerdFolders(host string) []string {
	var out []string
	if i := strings.LastIndex(host, ":"); i > 0 {
		out = append(out, host[:i]+"_"+host[i+1:]+"_")
	}
	return append(out, host, "_default")
}
