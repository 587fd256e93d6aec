package config

import (
	"fmt"
	"strings"
)

// Error is one problem in a configuration file: where it is, which field,
// and what to write instead.
type Error struct {
	File   string
	Line   int // 1-based; 0 when the problem has no place (a file that cannot be read)
	Column int
	Field  string // path such as registries[1].password; empty for the whole file
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one file, in file order. It is the error
// Parse and Load return; use errors.As to get at the parts.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// pos is a place in the file.
type pos struct{ line, col int }

// reporter collects errors for one file.
type reporter struct {
	file string
	errs Errors
}

func (r *reporter) add(p pos, field, format string, args ...any) {
	r.errs = append(r.errs, &Error{File: r.file, Line: p.line, Column: p.col, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// addOnce is add unless field already has an error (a field the schema
// refused is not checked again against the machine).
func (r *reporter) addOnce(p pos, field, format string, args ...any) {
	for _, e := range r.errs {
		if field != "" && e.Field == field {
			return
		}
	}
	r.add(p, field, format, args...)
}

func (r *reporter) err() error {
	if len(r.errs) == 0 {
		return nil
	}
	return r.errs
}
