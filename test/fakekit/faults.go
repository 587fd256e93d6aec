package fakekit

import "sync"

// Forever, as Inject's times, keeps a rule until Clear.
const Forever = 0

// Faults is a list of fault rules of type F, safe for concurrent use. Its
// zero value holds no rule. A rule names its calls by a pattern string
// whose meaning is the fake's (an endpoint, an action, "" for all): Take
// asks the fake's matcher.
type Faults[F comparable] struct {
	mu    sync.Mutex
	rules []*rule[F]
}

// rule is one Inject: fault on calls pattern names, left more times
// (unlimited when left is Forever).
type rule[F comparable] struct {
	fault   F
	pattern string
	left    int
}

// Inject adds a rule: fail the calls pattern names with f, the next times
// of them, or all of them until Clear when times is Forever (or
// negative). Earlier rules are checked first.
func (fs *Faults[F]) Inject(f F, pattern string, times int) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.rules = append(fs.rules, &rule[F]{fault: f, pattern: pattern, left: max(times, Forever)})
}

// Clear removes every rule.
func (fs *Faults[F]) Clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.rules = nil
}

// Take returns the fault of the first rule whose pattern matches accepts,
// using up one of its times (the rule goes when none is left); F's zero
// value when no rule matches.
func (fs *Faults[F]) Take(matches func(pattern string) bool) F {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, r := range fs.rules {
		if !matches(r.pattern) {
			continue
		}
		if r.left != Forever {
			r.left--
			if r.left == 0 {
				fs.rules = append(fs.rules[:i:i], fs.rules[i+1:]...)
			}
		}
		return r.fault
	}
	var none F
	return none
}

// Name returns names[i], the name of fault number i, or "Fault(?)" when i
// is out of range. A fake's Fault.String is this on its own name table.
func Name(names []string, i int) string {
	if i < 0 || i >= len(names) {
		return "Fault(?)"
	}
	return names[i]
}
