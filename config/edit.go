package config

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// Editing ocicred's own config file in place, keeping its comments: what
// `ocicred setup containerd` does to set containerd.hostsDir. It lives
// with the format it edits.

// HostsDirEdit is the ocicred config with containerd.hostsDir set.
type HostsDirEdit struct {
	After   []byte
	Old     string // the value it had, "" when unset
	Changed bool
	InPlace bool // only the lines about hostsDir changed; else the file was re-encoded
}

// SetHostsDir sets containerd.hostsDir in a YAML (or JSON) config. It edits
// the text in place where it can, so that every comment and alignment
// stays; a layout it does not know (flow style, JSON) is decoded and
// encoded again, which keeps comments but not their alignment.
func SetHostsDir(data []byte, dir string) (HostsDirEdit, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return HostsDirEdit{}, fmt.Errorf("not YAML or JSON: %w", err)
	}
	if doc.Kind == 0 { // an empty file
		return HostsDirEdit{After: appendBlock(data, dir), Changed: true, InPlace: true}, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return HostsDirEdit{}, errors.New("the top level is not a mapping of settings")
	}
	key, val := mappingValue(root, "containerd")
	var hk, hv *yaml.Node
	if val != nil && val.Kind == yaml.MappingNode {
		hk, hv = mappingValue(val, "hostsDir")
	}
	e := HostsDirEdit{Changed: true, InPlace: true}
	if hv != nil {
		e.Old = hv.Value
		if hv.Kind == yaml.ScalarNode && filepath.Clean(hv.Value) == dir {
			return HostsDirEdit{After: data, Old: hv.Value}, nil
		}
	}
	lines := strings.SplitAfter(string(data), "\n")
	block := root.Style&yaml.FlowStyle == 0
	switch {
	case block && key == nil:
		e.After = appendBlock(data, dir)
	case block && val.Kind == yaml.ScalarNode && val.Tag == "!!null" && val.Value == "": // "containerd:" and nothing
		e.After = insertLine(lines, key.Line, strings.Repeat(" ", key.Column+1)+"hostsDir: "+yamlScalar(dir)+"\n")
	case block && val.Kind == yaml.MappingNode && val.Style&yaml.FlowStyle == 0 && hk == nil:
		e.After = insertLine(lines, key.Line, strings.Repeat(" ", val.Content[0].Column-1)+"hostsDir: "+yamlScalar(dir)+"\n")
	case block && hv != nil && hv.Kind == yaml.ScalarNode && val.Style&yaml.FlowStyle == 0:
		e.After = replaceScalar(lines, hv, yamlScalar(dir))
	}
	if e.After != nil && hostsDirOf(e.After) == dir {
		return e, nil
	}
	// Re-encode: the layout is not one edited in place.
	after, err := reencodeWithHostsDir(&doc, root, dir)
	if err != nil {
		return HostsDirEdit{}, err
	}
	return HostsDirEdit{After: after, Old: e.Old, Changed: true}, nil
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
