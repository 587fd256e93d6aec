package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/google/renameio/v2"
	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/ocicred/ocicred/config"
)

// Defaults of setup containerd.
const (
	DefaultHostsDir         = "/etc/containerd/certs.d"
	DefaultContainerdConfig = "/etc/containerd/config.toml"
)

func newSetupContainerdCmd(g *globals) *cobra.Command {
	var hostsDir, ctdConfig string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "containerd",
		Short: "Have the daemon keep containerd's hosts.toml files (CRI, ctr, crictl, the pause image)",
		Long: `Set containerd.hostsDir in the ocicred config, so that the daemon keeps
<hosts-dir>/<host>/hosts.toml with an Authorization header for every registry
with credentials (containerd never calls a credential helper). The rest of
the config file is kept as it is. Then check containerd's own config: CRI
pulls read hosts.toml files only from its registry config_path.`,
		Example: `  ocicred setup containerd
  ocicred setup containerd --dry-run
  ocicred setup containerd --hosts-dir /etc/containerd/certs.d --containerd-config /etc/containerd/config.toml`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return g.setupContainerd(hostsDir, ctdConfig, dryRun)
		},
	}
	cmd.Flags().StringVar(&hostsDir, "hosts-dir", DefaultHostsDir, "the folder containerd reads hosts.toml files from")
	cmd.Flags().StringVar(&ctdConfig, "containerd-config", DefaultContainerdConfig, "containerd's config, to check its config_path")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the change without writing")
	return cmd
}

func (g *globals) setupContainerd(hostsDir, ctdConfig string, dryRun bool) error {
	if !filepath.IsAbs(hostsDir) {
		return exitWith(ExitUsage, fmt.Errorf("--hosts-dir %q: write an absolute path, such as %s", hostsDir, DefaultHostsDir))
	}
	hostsDir = filepath.Clean(hostsDir)
	path := g.configPath
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real // keep a symlink a symlink
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return exitWith(ExitUsage, fmt.Errorf("read the ocicred config: %w", err))
	}
	if _, err := config.Parse(data, g.configPath); err != nil {
		return exitWith(ExitUsage, fmt.Errorf("fix the config first:\n%w", err))
	}
	edit, err := setHostsDir(data, hostsDir)
	if err != nil {
		return exitWith(ExitUsage, fmt.Errorf("%s: %w", g.configPath, err))
	}
	if edit.changed {
		if _, err := config.Parse(edit.after, g.configPath); err != nil {
			return exitWith(ExitFailure, fmt.Errorf("the edited config would not be valid (a bug; nothing written):\n%w", err))
		}
	}
	was := "unset"
	if edit.old != "" {
		was = "was " + edit.old
	}
	switch {
	case !edit.changed:
		fmt.Fprintf(g.stdout, "%s: containerd.hostsDir is already %s\n", g.configPath, hostsDir)
	case dryRun:
		fmt.Fprintf(g.stdout, "%s: would set containerd.hostsDir to %s (%s)\n", g.configPath, hostsDir, was)
		printLineDiff(g, g.configPath, data, edit)
	default:
		if err := writeKeepingOwner(path, edit.after); err != nil {
			return exitWith(ExitFailure, err)
		}
		fmt.Fprintf(g.stdout, "%s: set containerd.hostsDir to %s (%s)\n", g.configPath, hostsDir, was)
		fmt.Fprintf(g.stdout, "the daemon picks the change up by itself and keeps %s/<host>/hosts.toml for every registry with credentials; see `ocicred status`\n", hostsDir)
	}
	g.checkContainerdConfig(ctdConfig, hostsDir)
	return nil
}

// hostsDirEdit is the ocicred config with containerd.hostsDir set.
type hostsDirEdit struct {
	after   []byte
	old     string // the value it had, "" when unset
	changed bool
	inPlace bool // only the lines about hostsDir changed; else the file was re-encoded
}

// setHostsDir sets containerd.hostsDir in a YAML (or JSON) config. It edits
// the text in place where it can, so that every comment and alignment
// stays; a layout it does not know (flow style, JSON) is decoded and
// encoded again, which keeps comments but not their alignment.
func setHostsDir(data []byte, dir string) (hostsDirEdit, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return hostsDirEdit{}, fmt.Errorf("not YAML or JSON: %w", err)
	}
	if doc.Kind == 0 { // an empty file
		return hostsDirEdit{after: appendBlock(data, dir), changed: true, inPlace: true}, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return hostsDirEdit{}, errors.New("the top level is not a mapping of settings")
	}
	key, val := mappingValue(root, "containerd")
	var hk, hv *yaml.Node
	if val != nil && val.Kind == yaml.MappingNode {
		hk, hv = mappingValue(val, "hostsDir")
	}
	e := hostsDirEdit{changed: true, inPlace: true}
	if hv != nil {
		e.old = hv.Value
		if hv.Kind == yaml.ScalarNode && filepath.Clean(hv.Value) == dir {
			return hostsDirEdit{after: data, old: hv.Value}, nil
		}
	}
	lines := strings.SplitAfter(string(data), "\n")
	block := root.Style&yaml.FlowStyle == 0
	switch {
	case block && key == nil:
		e.after = appendBlock(data, dir)
	case block && val.Kind == yaml.ScalarNode && val.Tag == "!!null" && val.Value == "": // "containerd:" and nothing
		e.after = insertLine(lines, key.Line, strings.Repeat(" ", key.Column+1)+"hostsDir: "+yamlScalar(dir)+"\n")
	case block && val.Kind == yaml.MappingNode && val.Style&yaml.FlowStyle == 0 && hk == nil:
		e.after = insertLine(lines, key.Line, strings.Repeat(" ", val.Content[0].Column-1)+"hostsDir: "+yamlScalar(dir)+"\n")
	case block && hv != nil && hv.Kind == yaml.ScalarNode && val.Style&yaml.FlowStyle == 0:
		e.after = replaceScalar(lines, hv, yamlScalar(dir))
	}
	if e.after != nil && hostsDirOf(e.after) == dir {
		return e, nil
	}
	// Re-encode: the layout is not one edited in place.
	after, err := reencodeWithHostsDir(&doc, root, dir)
	if err != nil {
		return hostsDirEdit{}, err
	}
	return hostsDirEdit{after: after, old: e.old, changed: true}, nil
}

// mappingValue finds key in a mapping node.
func mappingValue(m *yaml.Node, key string) (k, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// yamlScalar is s as a YAML scalar, quoted when it must be.
func yamlScalar(s string) string {
	out, err := yaml.Marshal(s)
	if err != nil {
		return fmt.Sprintf("%q", s)
	}
	return strings.TrimSuffix(string(out), "\n")
}

func appendBlock(data []byte, dir string) []byte {
	out := bytes.Clone(data)
	if len(out) > 0 && !bytes.HasSuffix(out, []byte("\n")) {
		out = append(out, '\n')
	}
	return append(out, "containerd:\n  hostsDir: "+yamlScalar(dir)+"\n"...)
}

// insertLine puts text after the 1-based line n.
func insertLine(lines []string, n int, text string) []byte {
	if n < 1 || n > len(lines) {
		return nil
	}
	var b strings.Builder
	for i, l := range lines {
		b.WriteString(l)
		if i == n-1 {
			if !strings.HasSuffix(l, "\n") {
				b.WriteString("\n")
			}
			b.WriteString(text)
		}
	}
	return []byte(b.String())
}

// replaceScalar replaces the one-line scalar v with text, keeping what
// follows it on the line (a comment).
func replaceScalar(lines []string, v *yaml.Node, text string) []byte {
	if v.Line < 1 || v.Line > len(lines) {
		return nil
	}
	line := []rune(lines[v.Line-1])
	start := v.Column - 1
	if start < 0 || start >= len(line) {
		return nil
	}
	end := scalarEnd(line, start, v.Style)
	if end < 0 {
		return nil
	}
	lines = append([]string(nil), lines...)
	lines[v.Line-1] = string(line[:start]) + text + string(line[end:])
	return []byte(strings.Join(lines, ""))
}

// scalarEnd is where the scalar starting at line[start] ends, or -1 when
// it does not end on this line or is a block scalar.
func scalarEnd(line []rune, start int, style yaml.Style) int {
	switch {
	case style&yaml.DoubleQuotedStyle != 0:
		for i := start + 1; i < len(line); i++ {
			switch line[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
	case style&yaml.SingleQuotedStyle != 0:
		for i := start + 1; i < len(line); i++ {
			if line[i] == '\'' {
				if i+1 < len(line) && line[i+1] == '\'' {
					i++
					continue
				}
				return i + 1
			}
		}
	case style == 0:
		end := len(line)
		for i := start + 1; i < len(line); i++ {
			if line[i] == '#' && (line[i-1] == ' ' || line[i-1] == '\t') {
				end = i
				break
			}
		}
		for end > start && strings.ContainsRune(" \t\r\n", line[end-1]) {
			end--
		}
		return end
	}
	return -1
}

// hostsDirOf reads containerd.hostsDir back, to check an edit.
func hostsDirOf(data []byte) string {
	var c struct {
		Containerd struct {
			HostsDir string `yaml:"hostsDir"`
		} `yaml:"containerd"`
	}
	if yaml.Unmarshal(data, &c) != nil {
		return ""
	}
	return c.Containerd.HostsDir
}

// reencodeWithHostsDir sets the value in the node tree and encodes it.
func reencodeWithHostsDir(doc, root *yaml.Node, dir string) ([]byte, error) {
	var style yaml.Style
	if root.Style&yaml.FlowStyle != 0 {
		style = yaml.DoubleQuotedStyle // a JSON file stays JSON
	}
	scalar := func(v string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v, Style: style}
	}
	_, val := mappingValue(root, "containerd")
	switch {
	case val == nil:
		val = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		root.Content = append(root.Content, scalar("containerd"), val)
	case val.Kind != yaml.MappingNode:
		*val = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: val.Style & yaml.FlowStyle}
	}
	if _, hv := mappingValue(val, "hostsDir"); hv != nil {
		*hv = *scalar(dir)
	} else {
		val.Content = append(val.Content, scalar("hostsDir"), scalar(dir))
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return b.Bytes(), nil
}

// printLineDiff shows the lines an in-place edit changes. A re-encoded
// file is not shown: every line would differ, secrets included.
func printLineDiff(g *globals, name string, before []byte, e hostsDirEdit) {
	if !e.inPlace {
		fmt.Fprintf(g.stdout, "%s would be encoded again: comments are kept, their alignment is not\n", name)
		return
	}
	a := strings.SplitAfter(string(before), "\n")
	b := strings.SplitAfter(string(e.after), "\n")
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	fmt.Fprintf(g.stdout, "--- %s\n+++ %s (after)\n", name, name)
	for _, l := range a[pre : len(a)-suf] {
		fmt.Fprintf(g.stdout, "-%s", withNewline(l))
	}
	for _, l := range b[pre : len(b)-suf] {
		fmt.Fprintf(g.stdout, "+%s", withNewline(l))
	}
}

func withNewline(s string) string {
	if strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}

// writeKeepingOwner replaces path atomically with data, keeping its mode,
// owner and group (the packaged config is root:ocicred 0640).
func writeKeepingOwner(path string, data []byte) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	f, err := renameio.NewPendingFile(path, renameio.WithTempDir(filepath.Dir(path)), renameio.WithStaticPermissions(fi.Mode().Perm()))
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() { _ = f.Cleanup() }()
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if err := f.Chown(int(st.Uid), int(st.Gid)); err != nil {
			return fmt.Errorf("write %s: keep its owner: %w", path, err)
		}
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

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

// checkContainerdConfig tells whether containerd's CRI plugin reads
// hosts.toml files from hostsDir, and what to change when it does not.
// It only prints: containerd's config is the administrator's.
func (g *globals) checkContainerdConfig(path, hostsDir string) {
	warn := func(format string, args ...any) { fmt.Fprintf(g.stderr, "warning: "+format+"\n", args...) }
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		warn("%s does not exist: containerd runs on its defaults, and CRI pulls (kubelet, crictl) may not read %s.\n"+
			"  Create it (containerd config default > %s), set config_path = %q in its CRI registry section, and restart containerd.\n"+
			"  ctr reads the files with: ctr image pull --hosts-dir %s IMAGE", path, hostsDir, path, hostsDir, hostsDir)
		return
	}
	if err != nil {
		warn("cannot read %s (%v): check by hand that its CRI registry config_path is %q", path, err, hostsDir)
		return
	}
	var cfg map[string]any
	if err := toml.Unmarshal(data, &cfg); err != nil {
		warn("%s is not TOML (%v): check by hand that its CRI registry config_path is %q", path, err, hostsDir)
		return
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
		warn("%s has config version %d, which this ocicred does not know: check by hand that its CRI registry config_path is %q", path, version, hostsDir)
		return
	}
	dirs := filepath.SplitList(configPath)
	switch {
	case !found || configPath == "":
		warn("%s does not set config_path: CRI pulls (kubelet, crictl) will not read the hosts.toml files. Add\n\n"+
			"  %s\n    config_path = %q\n\nand restart containerd.", path, section, hostsDir)
	case len(dirs) > 1:
		warn("%s: config_path = %q lists several folders. containerd 2.1 and later, in transfer-service mode (their default),\n"+
			"  take it as one folder name and ignore every hosts.toml (containerd/containerd#12808).\n"+
			"  Set config_path = %q alone in %s and restart containerd.", path, configPath, hostsDir, section)
	case filepath.Clean(configPath) != hostsDir:
		warn("%s: config_path = %q, but ocicred writes to %s. Set config_path = %q in %s and restart containerd,\n"+
			"  or run: ocicred setup containerd --hosts-dir %s", path, configPath, hostsDir, hostsDir, section, configPath)
	default:
		fmt.Fprintf(g.stdout, "%s: config_path is %s: CRI pulls read the hosts.toml files (re-read on every pull, no restart needed)\n", path, hostsDir)
	}
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
