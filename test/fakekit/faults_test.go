package fakekit

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

type fault int

const (
	none fault = iota
	boom
	slow
)

func endpoint(e string) func(string) bool {
	return func(p string) bool { return p == "" || p == e }
}

func TestTakeUsesUpTimes(t *testing.T) {
	var fs Faults[fault]
	fs.Inject(boom, "a", 2)
	for i, want := range []fault{none, boom, boom, none} {
		e := "a"
		if i == 0 {
			e = "b"
		}
		if got := fs.Take(endpoint(e)); got != want {
			t.Errorf("take %d (%s) = %v, want %v", i, e, got, want)
		}
	}
}

func TestForeverAndNegativeLastUntilClear(t *testing.T) {
	var fs Faults[fault]
	fs.Inject(boom, "a", Forever)
	fs.Inject(slow, "b", -3)
	for range 5 {
		if got := fs.Take(endpoint("a")); got != boom {
			t.Fatalf("Take(a) = %v, want boom", got)
		}
		if got := fs.Take(endpoint("b")); got != slow {
			t.Fatalf("Take(b) = %v, want slow", got)
		}
	}
	fs.Clear()
	if got := fs.Take(endpoint("a")); got != none {
		t.Errorf("after Clear: %v, want none", got)
	}
}

func TestEarlierRuleFirst(t *testing.T) {
	var fs Faults[fault]
	fs.Inject(slow, "", 1) // every endpoint
	fs.Inject(boom, "a", 1)
	if got := fs.Take(endpoint("a")); got != slow {
		t.Errorf("first take = %v, want slow (the earlier rule)", got)
	}
	if got := fs.Take(endpoint("a")); got != boom {
		t.Errorf("second take = %v, want boom", got)
	}
	if got := fs.Take(endpoint("a")); got != none {
		t.Errorf("third take = %v, want none", got)
	}
}

func TestName(t *testing.T) {
	names := []string{"", "Boom"}
	for i, want := range map[int]string{0: "", 1: "Boom", 2: "Fault(?)", -1: "Fault(?)"} {
		if got := Name(names, i); got != want {
			t.Errorf("Name(%d) = %q, want %q", i, got, want)
		}
	}
}

type recorder struct {
	testing.TB
	lines []string
}

func (r *recorder) Log(args ...any) {
	for _, a := range args {
		r.lines = append(r.lines, a.(string))
	}
}

func TestTestLoggerWritesOneLineARecord(t *testing.T) {
	r := &recorder{TB: t}
	TestLogger(r).Info("aws call", "action", "GetAuthorizationToken")
	if len(r.lines) != 1 || strings.Contains(r.lines[0], "\n") ||
		!strings.Contains(r.lines[0], `msg="aws call" action=GetAuthorizationToken`) {
		t.Errorf("logged %q, want one line with the record", r.lines)
	}
}

type closer struct{ closed bool }

func (c *closer) Close() { c.closed = true }

func TestStartClosesWhenTheTestEnds(t *testing.T) {
	var c *closer
	t.Run("test", func(t *testing.T) {
		c = Start(t, "fake", func() (*closer, error) { return &closer{}, nil })
		if c.closed {
			t.Error("closed before the test ended")
		}
	})
	if !c.closed {
		t.Error("not closed when the test ended")
	}
}

type fatals struct {
	testing.TB
	msg string
}

func (f *fatals) Helper() {}

func (f *fatals) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestStartFailsTheTestOnError(t *testing.T) {
	f := &fatals{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(f, "fake", func() (*closer, error) { return nil, errors.New("no port") })
	}()
	<-done
	if f.msg != "fake: no port" {
		t.Errorf("Fatalf(%q), want %q", f.msg, "fake: no port")
	}
}
