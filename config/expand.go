package config

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// MaxValues bounds how many YAML values (mapping keys included) a file may
// stand for once its aliases are expanded, each use of an alias counting
// its anchor's whole value again. A config of 10,000 registries written out
// by hand stands for about 300,000. Aliases can make a file of a few KiB
// stand for billions (the "billion laughs"), and decoding that runs the
// daemon out of memory, so Parse counts first, in time and memory linear in
// the file, and refuses such a file before decoding any of it.
const MaxValues = 1_000_000

// expansionError is a file whose aliases expand past the bound, or an
// anchor whose value uses the anchor itself.
type expansionError struct {
	at  pos
	msg string
}

// checkExpansion refuses a document that stands for more than limit values
// or whose aliases loop.
func checkExpansion(root *yaml.Node, limit int) *expansionError {
	c := &valueCounter{limit: limit, sizes: map[*yaml.Node]int{}, open: map[*yaml.Node]bool{}}
	_, err := c.count(root)
	return err
}

// valueCounter counts the values a walk that follows aliases visits (what
// the decoder visits at most), remembering the count of every anchored
// value so that each is counted once, however often it is used.
type valueCounter struct {
	limit     int
	sizes     map[*yaml.Node]int  // anchored value → its expanded count
	open      map[*yaml.Node]bool // anchored values being counted: the path from the root
	lastAlias *yaml.Node          // the alias used last, where the error points
}

func (c *valueCounter) count(n *yaml.Node) (int, *expansionError) {
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return 1, nil
		}
		c.lastAlias = n
		return c.count(n.Alias)
	}
	if n.Anchor != "" {
		if size, ok := c.sizes[n]; ok {
			return size, nil
		}
		if c.open[n] {
			return 0, &expansionError{at: c.aliasPos(n), msg: fmt.Sprintf(
				"the value of anchor &%s uses *%s inside itself; write it out without the alias", n.Anchor, n.Anchor)}
		}
		c.open[n] = true
		defer delete(c.open, n)
	}
	total := 1
	for _, child := range n.Content {
		size, err := c.count(child)
		if err != nil {
			return 0, err
		}
		if total += size; total > c.limit {
			return 0, c.tooMany(n)
		}
	}
	if n.Anchor != "" {
		c.sizes[n] = total
	}
	return total, nil
}

func (c *valueCounter) tooMany(n *yaml.Node) *expansionError {
	if c.lastAlias == nil {
		return &expansionError{at: pos{n.Line, n.Column}, msg: fmt.Sprintf(
			"this file holds more than %d values, more than any config ocicred needs; is this the right file?", c.limit)}
	}
	return &expansionError{at: c.aliasPos(n), msg: fmt.Sprintf(
		"aliases (*name) expand this file to more than %d values, more than any config ocicred needs; use fewer aliases", c.limit)}
}

func (c *valueCounter) aliasPos(n *yaml.Node) pos {
	if c.lastAlias != nil {
		return pos{c.lastAlias.Line, c.lastAlias.Column}
	}
	return pos{n.Line, n.Column}
}
