package config

import (
	"reflect"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// places finds where a field path (registries[3].credentials.type) stands
// in the file: the place the decoder would record for it, that is of its
// value, aliases followed; nothing for a field the file does not give or
// that is not a field of the schema.
//
// While a file is checked, places walks the parsed tree along the path
// (a few steps, nothing allocated) rather than keeping a map from every
// field's path to its place: for 10,000 registries that map took 150,000
// path strings and a third of the decoder's and validation's time, to be
// read a few times per registry. Once the file is checked (Config.finish)
// only the places ResolveSecrets may still report are kept, in a map, and
// the tree goes.
type places struct {
	root *yaml.Node     // the document while the file is checked, else nil
	kept map[string]pos // afterwards
	// last is where the last lookup's first list item (registries[12])
	// stands: validation asks about one registry's fields in a row.
	last *placeCache
}

// placeCache is a path's first list item and where it stands; n is nil
// when the file has no such item.
type placeCache struct {
	prefix string
	n      *yaml.Node
	s      *schema
}

// treePlaces finds places in the document root.
func treePlaces(root *yaml.Node) places { return places{root: root, last: &placeCache{}} }

// get is the place of path, and whether the file has it.
func (ps places) get(path string) (pos, bool) {
	if ps.root == nil {
		p, ok := ps.kept[path]
		return p, ok
	}
	n := follow(ps.root)
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return pos{}, false
		}
		n = n.Content[0]
	}
	s := configSchema()
	if end := strings.IndexByte(path, ']'); end >= 0 && ps.last != nil {
		prefix, rest := path[:end+1], path[end+1:]
		if prefix != ps.last.prefix {
			item, itemSchema, ok := walk(n, s, prefix)
			if !ok {
				item = nil
			}
			// A copy: keeping path itself would make every caller's path
			// escape to the heap.
			*ps.last = placeCache{prefix: strings.Clone(prefix), n: item, s: itemSchema}
		}
		if ps.last.n == nil {
			return pos{}, false
		}
		n, s, path = ps.last.n, ps.last.s, rest
	}
	n, _, ok := walk(n, s, path)
	if !ok {
		return pos{}, false
	}
	return pos{n.Line, n.Column}, true
}

// find is the place of path in the document root, found by walking the
// tree.
func find(root *yaml.Node, path string) (pos, bool) {
	return places{root: root}.get(path)
}

// walk goes from n, a value of schema s, along path, taking the steps the
// decoder takes into a Config: only through fields of the schema (the
// first key of each name, as the decoder keeps the first and refuses the
// rest), and only into a mapping for a struct and a list for a slice. It
// returns the value path names and its schema.
func walk(n *yaml.Node, s *schema, path string) (*yaml.Node, *schema, bool) {
	for path != "" {
		if path[0] == '[' {
			end := strings.IndexByte(path, ']')
			if end < 0 || s.elem == nil || n.Kind != yaml.SequenceNode {
				return nil, nil, false
			}
			i, err := strconv.Atoi(path[1:end])
			if err != nil || i < 0 || i >= len(n.Content) {
				return nil, nil, false
			}
			n, s, path = follow(n.Content[i]), s.elem, path[end+1:]
			continue
		}
		if path[0] == '.' {
			path = path[1:]
		}
		end := 0
		for end < len(path) && path[end] != '.' && path[end] != '[' {
			end++
		}
		field, known := s.fields[path[:end]]
		if !known || n.Kind != yaml.MappingNode {
			return nil, nil, false
		}
		val := valueOf(n, path[:end])
		if val == nil {
			return nil, nil, false
		}
		n, s, path = follow(val), field, path[end:]
	}
	return n, s, true
}

// schema is what the decoder takes at one place of a Config: a struct's
// fields by yaml name, or a slice's element; neither for a single value.
type schema struct {
	fields map[string]*schema
	elem   *schema
}

// configSchema is the schema of a Config, built once.
var configSchema = sync.OnceValue(func() *schema { return schemaOf(reflect.TypeFor[Config](), map[reflect.Type]*schema{}) })

// schemaOf is t's schema, as decoder.decode takes t: pointers are
// followed, secrets and durations are single values. done holds the types
// built so far (a Credentials holds its base Credentials).
func schemaOf(t reflect.Type, done map[reflect.Type]*schema) *schema {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s, ok := done[t]; ok {
		return s
	}
	s := &schema{}
	done[t] = s
	switch {
	case t == secretType || t == durationType:
	case t.Kind() == reflect.Struct:
		s.fields = map[string]*schema{}
		for name, i := range yamlFields(t) {
			s.fields[name] = schemaOf(t.Field(i).Type, done)
		}
	case t.Kind() == reflect.Slice:
		s.elem = schemaOf(t.Elem(), done)
	}
	return s
}

// follow is the value an alias stands for (n itself if it is none).
func follow(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// valueOf is the value of a mapping's first key named name, or nil.
func valueOf(m *yaml.Node, name string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == name {
			return m.Content[i+1]
		}
	}
	return nil
}
