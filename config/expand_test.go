package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// aliasBomb is a small file whose registries and allow lists, both made of
// aliases, expand to regs×users values: what the decoder would build.
func aliasBomb(regs, users int) string {
	var b strings.Builder
	b.WriteString("registries:\n  - &r {name: a, type: basic, endpoint: a.example, username: u, passwordEnv: PW, allow: [")
	for i := range users {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "u%d", i)
	}
	b.WriteString("]}\n")
	for range regs - 1 {
		b.WriteString("  - *r\n")
	}
	return b.String()
}

func TestParseRefusesAliasExpansion(t *testing.T) {
	tests := []struct {
		name, in, want string
		minLine        int // the alias use that crossed the bound, or later
	}{
		{"registries times allow", aliasBomb(1100, 1000),
			"aliases (*name) expand this file to more than 1000000 values", 3},
		{"nested lists", "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n" +
			"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n" +
			"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n" +
			"g: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n", "aliases (*name) expand this file", 6},
		{"anchor inside itself", "registries: &r [{name: a, allow: *r}]\n", "the value of anchor &r uses *r inside itself", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.in), "c.yaml")
			var es Errors
			if !errors.As(err, &es) || len(es) != 1 {
				t.Fatalf("Parse = %v registries, %v; want one error", registryCount(c), firstLines(err))
			}
			if e := es[0]; !strings.Contains(e.Msg, tt.want) || e.Line < tt.minLine {
				t.Errorf("error = %v; want line %d or later and %q", e, tt.minLine, tt.want)
			}
		})
	}
}

// TestParseAcceptsAliasesWithinBound: aliases that repeat a block are fine.
func TestParseAcceptsAliasesWithinBound(t *testing.T) {
	c, err := Parse([]byte(aliasBomb(1, 1000)), "c.yaml")
	if err != nil || len(c.Registries) != 1 || len(c.Registries[0].Allow) != 1000 {
		t.Fatalf("Parse = %v registries, %v", registryCount(c), err)
	}
	in := "registries:\n" +
		"  - {name: a, type: ecr, endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com, credentials: &creds {type: default, profile: p}, allow: &who [root, bob]}\n" +
		"  - {name: b, type: ecr, endpoint: 123456789012.dkr.ecr.eu-west-1.amazonaws.com, credentials: *creds, allow: *who}\n"
	c, err = Parse([]byte(in), "c.yaml")
	if err != nil || c.Registries[1].Credentials.Profile != "p" || len(c.Registries[1].Allow) != 2 {
		t.Fatalf("Parse = %v", err)
	}
}

func TestCheckExpansionCountsEachAnchorOnce(t *testing.T) {
	// 2^40 values if each use were walked again; the count must finish at once.
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x]\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [*a%d, *a%d]\n", i, i, i-1, i-1)
	}
	_, _, err := parse([]byte(b.String()), "c.yaml", 1<<62)
	if err == nil || strings.Contains(err.Error(), "expand") {
		t.Fatalf("parse = %v; want only unknown-field errors under a huge bound", firstLines(err))
	}
	_, _, err = parse([]byte(b.String()), "c.yaml", 1000)
	if err == nil || !strings.Contains(err.Error(), "more than 1000 values") {
		t.Fatalf("parse = %v; want the bound refused", firstLines(err))
	}
}

func registryCount(c *Config) int {
	if c == nil {
		return 0
	}
	return len(c.Registries)
}

// firstLines keeps test output short when an error lists a million lines.
func firstLines(err error) string {
	if err == nil {
		return "<nil>"
	}
	lines := strings.SplitN(err.Error(), "\n", 4)
	if len(lines) > 3 {
		lines[3] = "…"
	}
	return strings.Join(lines, "\n")
}
