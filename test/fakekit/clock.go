package fakekit

import (
	"sync"
	"time"
)

// Clock is the wall clock moved by an offset a test sets: a fake checks
// times against it (WithNow options) while the client libraries sign with
// the real wall clock, which is how clock skew is made. The zero value is
// the wall clock. Safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	off time.Duration
}

// Now is the wall clock plus the offset.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

// Set makes Now run off ahead of the wall clock (behind when negative).
func (c *Clock) Set(off time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off = off
}
