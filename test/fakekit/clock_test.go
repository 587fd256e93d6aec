package fakekit

import (
	"testing"
	"time"
)

func TestClockMovesByItsOffset(t *testing.T) {
	var c Clock
	if d := time.Since(c.Now()); d < 0 || d > time.Minute {
		t.Fatalf("the zero Clock is %v off the wall clock", d)
	}
	c.Set(-2 * time.Hour)
	if d := time.Since(c.Now()); d < 2*time.Hour || d > 2*time.Hour+time.Minute {
		t.Errorf("after Set(-2h) the Clock is %v behind the wall clock", d)
	}
}
