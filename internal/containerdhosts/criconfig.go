package containerdhosts

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pelletier/go-toml/v2"
)

// DefaultHostsDir and DefaultCRIConfig are where a packaged containerd
// keeps its hosts folder and its config.
const (
	DefaultHostsDir  = "/etc/containerd/certs.d"
	DefaultCRIConfig = "/etc/containerd/config.toml"
)

// criRegistrySections are where containerd's CRI plugin takes its registry
// settings, by config version.
var criRegistrySections = []struct {
	version int64
	plugin  string
}{
	{3, "io.containerd.cri.v1.images"}, // containerd 2.x
	{2, "io.containerd.grpc.v1.cri"},   // containerd 1.x, version = 2
	{1, "cri"},                         // containerd 1.x, version 1 (no version line)
}

// CRICheck is what containerd's config says about a hosts folder.
type CRICheck struct {
	OK  bool   // containerd's CRI plugin reads hosts.toml files from the folder
	Msg string // what holds, or what is wrong and what to change (lines, no trailing newline)
}

// CheckCRIConfig tells whether containerd's CRI plugin, configured by the
// file at path, reads hosts.toml files from hostsDir (its registry
// config_path, by config version 1, 2 or 3), and what to change when it
// does not. It only reads: containerd's config is the administrator's.
func CheckCRIConfig(path, hostsDir string) CRICheck {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return CRICheck{Msg: fmt.Sprintf("%s does not exist: containerd runs on its defaults, and CRI pulls (kubelet, crictl) may not read %s.\n"+
			"  Create it (containerd config default > %s), set config_path = %q in its CRI registry section, and restart containerd.\n"+
			"  ctr reads the files with: ctr image pull --hosts-dir %s IMAGE", path, hostsDir, path, hostsDir, hostsDir)}
	}
	if err != nil {
		return CRICheck{Msg: fmt.Sprintf("cannot read %s (%v): check by hand that its CRI registry config_path is %q", path, err, hostsDir)}
	}
	return checkCRIData(path, data, hostsDir)
}

// checkCRIData is CheckCRIConfig on the file's content; path is for the
// messages.
func checkCRIData(path string, data []byte, hostsDir string) CRICheck {
	var cfg map[string]any
	if err := toml.Unmarshal(data, &cfg); err != nil {
		return CRICheck{Msg: fmt.Sprintf("%s is not TOML (%v): check by hand that its CRI registry config_path is %q", path, err, hostsDir)}
	}
	version, _ := cfg["version"].(int64)
	if version == 0 {
		version = 1
	}
	section, configPath, found := "", "", false
	for _, s := range criRegistrySections {
		if s.version != version {
			continue
		}
		section = fmt.Sprintf("[plugins.%q.registry]", s.plugin)
		if s.version == 1 {
			section = "[plugins.cri.registry]"
		}
		configPath, found = lookupString(cfg, "plugins", s.plugin, "registry", "config_path")
	}
	if section == "" {
		return CRICheck{Msg: fmt.Sprintf("%s has config version %d, which this ocicred does not know: check by hand that its CRI registry config_path is %q", path, version, hostsDir)}
	}
	dirs := filepath.SplitList(configPath)
	switch {
	case !found || configPath == "":
		return CRICheck{Msg: fmt.Sprintf("%s does not set config_path: CRI pulls (kubelet, crictl) will not read the hosts.toml files. Add\n\n"+
			"  %s\n    config_path = %q\n\nand restart containerd.", path, section, hostsDir)}
	case len(dirs) > 1:
		return CRICheck{Msg: fmt.Sprintf("%s: config_path = %q lists several folders. containerd 2.1 and later, in transfer-service mode (their default),\n"+
			"  take it as one folder name and ignore every hosts.toml (containerd/containerd#12808).\n"+
			"  Set config_path = %q alone in %s and restart containerd.", path, configPath, hostsDir, section)}
	case filepath.Clean(configPath) != hostsDir:
		return CRICheck{Msg: fmt.Sprintf("%s: config_path = %q, but ocicred writes to %s. Set config_path = %q in %s and restart containerd,\n"+
			"  or run: ocicred setup containerd --hosts-dir %s", path, configPath, hostsDir, hostsDir, section, configPath)}
	}
	return CRICheck{OK: true, Msg: fmt.Sprintf("%s: config_path is %s: CRI pulls read the hosts.toml files (re-read on every pull, no restart needed)", path, hostsDir)}
}

// lookupString follows keys through nested TOML tables.
func lookupString(m map[string]any, keys ...string) (string, bool) {
	for i, k := range keys {
		v, ok := m[k]
		if !ok {
			return "", false
		}
		if i == len(keys)-1 {
			s, ok := v.(string)
			return s, ok
		}
		if m, ok = v.(map[string]any); !ok {
			return "", false
		}
	}
	return "", false
}
