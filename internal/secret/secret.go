// Package secret holds a string that must never be printed: passwords,
// secret access keys and registry tokens. Every way Go prints or marshals a
// value shows Redacted; only Reveal returns the real text, and it is called
// only where a protocol needs the value.
package secret

import (
	"fmt"
	"log/slog"
)

// Redacted is what a Secret prints as.
const Redacted = "REDACTED"

// Secret is a string that does not print itself.
type Secret struct{ v string }

// New wraps s.
func New(s string) Secret { return Secret{v: s} }

// Reveal returns the secret text. Call it only where the value is sent.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == "" }

// String implements fmt.Stringer.
func (s Secret) String() string { return Redacted }

// GoString implements fmt.GoStringer, for %#v.
func (s Secret) GoString() string { return Redacted }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalText implements encoding.TextMarshaler, so encoding/json (and
// slog's JSON handler, which ignores LogValue on nested fields) prints
// Redacted too.
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// Format implements fmt.Formatter so that every verb, %x and %q included,
// prints Redacted.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }
