package fakekit

import (
	"context"
	"sync"
)

// Log is a call log of records C, safe for concurrent use. Its zero value
// is empty and ready to use. Every change (a record, a hanging call
// starting or ending, a Reset) wakes the waiters, which then look again:
// latest wins, no change is queued, and nobody polls.
type Log[C any] struct {
	mu      sync.Mutex
	calls   []C
	hanging int
	changed chan struct{} // closed, and replaced, on every change; nil until a waiter asks
}

// Record appends c to the log.
func (l *Log[C]) Record(c C) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, c)
	l.changedLocked()
}

// Snapshot returns a copy of the records since the start or Reset, oldest
// first. The copy is shallow: a record's slices are shared with the log,
// which never changes a record once it is in.
func (l *Log[C]) Snapshot() []C {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]C(nil), l.calls...)
}

// Count returns how many records match accepts.
func (l *Log[C]) Count(match func(C) bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.countLocked(match)
}

func (l *Log[C]) countLocked(match func(C) bool) int {
	n := 0
	for _, c := range l.calls {
		if match(c) {
			n++
		}
	}
	return n
}

// WaitCount waits until at least n records match accepts. It returns the
// count it saw last and, when ctx is done first, ctx's error (unwrapped:
// the fake adds its own words).
func (l *Log[C]) WaitCount(ctx context.Context, match func(C) bool, n int) (int, error) {
	for {
		l.mu.Lock()
		got, changed := l.countLocked(match), l.changedChanLocked()
		l.mu.Unlock()
		if got >= n {
			return got, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return got, ctx.Err()
		}
	}
}

// WaitFirst waits until a record that match accepts is in the log, and
// returns the oldest such record; ctx's error when ctx is done first.
func (l *Log[C]) WaitFirst(ctx context.Context, match func(C) bool) (C, error) {
	for {
		l.mu.Lock()
		changed := l.changedChanLocked()
		for _, c := range l.calls {
			if match(c) {
				l.mu.Unlock()
				return c, nil
			}
		}
		l.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			var zero C
			return zero, ctx.Err()
		}
	}
}

// Hold counts one more hanging call until the returned release is called
// (once). The fake decides whether a hanging call is recorded before or
// after Hold.
func (l *Log[C]) Hold() (release func()) {
	l.mu.Lock()
	l.hanging++
	l.changedLocked()
	l.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.hanging--
			l.changedLocked()
		})
	}
}

// Hanging is how many calls are held now (see Hold).
func (l *Log[C]) Hanging() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hanging
}

// WaitHanging waits until exactly n calls are held. It returns the number
// it saw last and, when ctx is done first, ctx's error.
func (l *Log[C]) WaitHanging(ctx context.Context, n int) (int, error) {
	for {
		l.mu.Lock()
		got, changed := l.hanging, l.changedChanLocked()
		l.mu.Unlock()
		if got == n {
			return got, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return got, ctx.Err()
		}
	}
}

// Reset forgets the records; the hanging count stays, as those calls
// still hang.
func (l *Log[C]) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = nil
	l.changedLocked()
}

// changedChanLocked returns the channel the next change closes; l.mu is held.
func (l *Log[C]) changedChanLocked() chan struct{} {
	if l.changed == nil {
		l.changed = make(chan struct{})
	}
	return l.changed
}

// changedLocked wakes every waiter; l.mu is held.
func (l *Log[C]) changedLocked() {
	if l.changed != nil {
		close(l.changed)
		l.changed = nil
	}
}
