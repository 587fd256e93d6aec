package config

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ocicred/ocicred/internal/secret"
)

// decoder walks a yaml.Node tree into Go values. Unlike yaml.Decoder with
// KnownFields it goes on after an error, so that a file's every problem is
// reported at once. Where each field stands is found again in the tree
// (places) when validation needs it.
type decoder struct {
	r      *reporter
	visits int // values decoded, aliases counted at each use
	// record, when set, is told each field's path and place as it is
	// decoded: the tests hold places to it.
	record func(path string, p pos)
}

var (
	secretType   = reflect.TypeFor[secret.Secret]()
	durationType = reflect.TypeFor[Duration]()
)

func (d *decoder) decode(n *yaml.Node, path string, v reflect.Value) {
	d.visits++
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return
		}
		n = n.Content[0]
	}
	if d.record != nil {
		d.record(path, pos{n.Line, n.Column})
	}
	switch {
	case v.Type() == secretType:
		if s, ok := d.scalar(n, path, "a string"); ok {
			v.Set(reflect.ValueOf(secret.New(s)))
		}
		return
	case v.Type() == durationType:
		d.duration(n, path, v)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if isNull(n) {
			return
		}
		before := len(d.r.errs)
		nv := reflect.New(v.Type().Elem())
		d.decode(n, path, nv.Elem())
		if len(d.r.errs) == before || nv.Elem().Kind() == reflect.Struct {
			v.Set(nv)
		}
	case reflect.Struct:
		d.mapping(n, path, v)
	case reflect.Slice:
		d.sequence(n, path, v)
	case reflect.String:
		if s, ok := d.scalar(n, path, "a string"); ok {
			v.SetString(s)
		}
	case reflect.Bool:
		d.boolean(n, path, v)
	default:
		panic(fmt.Sprintf("config: no decoder for %s", v.Type()))
	}
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func (d *decoder) scalar(n *yaml.Node, path, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.r.add(pos{n.Line, n.Column}, path, "must be %s, not %s", want, kindName(n))
		return "", false
	}
	if isNull(n) {
		return "", true
	}
	return n.Value, true
}

func (d *decoder) boolean(n *yaml.Node, path string, v reflect.Value) {
	s, ok := d.scalar(n, path, "true or false")
	if !ok {
		return
	}
	b, err := strconv.ParseBool(s)
	if err != nil || n.Tag != "!!bool" {
		d.r.add(pos{n.Line, n.Column}, path, "must be true or false")
		return
	}
	v.SetBool(b)
}

func (d *decoder) duration(n *yaml.Node, path string, v reflect.Value) {
	s, ok := d.scalar(n, path, "a duration")
	if !ok || s == "" {
		return
	}
	dur, err := time.ParseDuration(s)
	if err != nil {
		d.r.add(pos{n.Line, n.Column}, path, "is not a duration; write a number with a unit, such as 1h or 90m")
		return
	}
	v.Set(reflect.ValueOf(Duration{dur}))
}

func (d *decoder) sequence(n *yaml.Node, path string, v reflect.Value) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.r.add(pos{n.Line, n.Column}, path, "must be a list, not %s", kindName(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.decode(item, path+"["+strconv.Itoa(i)+"]", s.Index(i))
	}
	v.Set(s)
}

func (d *decoder) mapping(n *yaml.Node, path string, v reflect.Value) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.r.add(pos{n.Line, n.Column}, path, "must be a mapping of fields, not %s", kindName(n))
		return
	}
	fields := yamlFields(v.Type())
	seen := make([]bool, v.NumField())
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		sub := joinPath(path, key.Value)
		idx, known := fields[key.Value]
		switch {
		case key.Value == "<<":
			d.r.add(pos{key.Line, key.Column}, sub, "merge keys are not supported; write the fields out")
		case !known:
			d.r.add(pos{key.Line, key.Column}, sub, "unknown field; %s", suggest(key.Value, fields))
		case seen[idx]:
			d.r.add(pos{key.Line, key.Column}, sub, "given twice; keep one")
		default:
			seen[idx] = true
			d.decode(val, sub, v.Field(idx))
		}
	}
}

// fieldsOf caches yamlFields per type: a 10,000-registry file would
// otherwise build the same map 10,000 times per load.
var fieldsOf sync.Map // reflect.Type → map[string]int, never changed once stored

// yamlFields maps a struct's yaml names to field indexes. The map is
// shared: read it, never change it.
func yamlFields(t reflect.Type) map[string]int {
	if m, ok := fieldsOf.Load(t); ok {
		return m.(map[string]int)
	}
	m, _ := fieldsOf.LoadOrStore(t, structFields(t))
	return m.(map[string]int)
}

func structFields(t reflect.Type) map[string]int {
	m := map[string]int{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			m[name] = i
		}
	}
	return m
}

func joinPath(parent, field string) string {
	if parent == "" {
		return field
	}
	return parent + "." + field
}

// kindName names what a node is, never what it holds: a value in the
// wrong place may be a secret.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!int", "!!float":
			return "a number"
		case "!!bool":
			return "true or false"
		}
		return "a single value"
	}
	return "this"
}

// suggest names the known field closest to an unknown one, or lists them.
func suggest(name string, fields map[string]int) string {
	names := make([]string, 0, len(fields))
	for f := range fields {
		names = append(names, f)
	}
	sort.Strings(names)
	best, bestDist := "", 3
	for _, f := range names {
		dist := editDistance(strings.ToLower(name), strings.ToLower(f))
		if similarPrefix(strings.ToLower(name), strings.ToLower(f)) {
			dist = min(dist, 2)
		}
		if dist < bestDist {
			best, bestDist = f, dist
		}
	}
	if best != "" {
		return fmt.Sprintf("did you mean %q?", best)
	}
	return "the fields here are: " + strings.Join(names, ", ")
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// similarPrefix reports whether a and b share all but the last two letters
// of the shorter one (registry, registries), and at least four.
func similarPrefix(a, b string) bool {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n >= 4 && n >= min(len(a), len(b))-2
}
