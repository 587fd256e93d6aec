package fakekit

import (
	"context"
	"errors"
	"testing"
)

type call struct {
	endpoint string
	tags     []string
}

func isA(c call) bool { return c.endpoint == "a" }

func TestLogRecordCountSnapshotReset(t *testing.T) {
	var l Log[call]
	l.Record(call{endpoint: "a"})
	l.Record(call{endpoint: "b"})
	l.Record(call{endpoint: "a"})
	if got := l.Count(isA); got != 2 {
		t.Errorf("Count(a) = %d, want 2", got)
	}
	snap := l.Snapshot()
	if len(snap) != 3 || snap[1].endpoint != "b" {
		t.Fatalf("Snapshot = %v, want a, b, a", snap)
	}
	snap[0].endpoint = "changed"
	if l.Count(isA) != 2 {
		t.Error("changing a snapshot changed the log")
	}
	l.Reset()
	if got := len(l.Snapshot()); got != 0 {
		t.Errorf("after Reset: %d records, want 0", got)
	}
}

func TestWaitCountWakesOnRecord(t *testing.T) {
	var l Log[call]
	done := make(chan error, 1)
	go func() {
		_, err := l.WaitCount(context.Background(), isA, 2)
		done <- err
	}()
	l.Record(call{endpoint: "a"})
	l.Record(call{endpoint: "b"})
	l.Record(call{endpoint: "a"})
	if err := <-done; err != nil {
		t.Fatalf("WaitCount: %v", err)
	}
}

func TestWaitCountReturnsCountAndContextError(t *testing.T) {
	var l Log[call]
	l.Record(call{endpoint: "a"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, err := l.WaitCount(ctx, isA, 2)
	if got != 1 || !errors.Is(err, context.Canceled) {
		t.Errorf("WaitCount = %d, %v; want 1, context.Canceled", got, err)
	}
}

func TestWaitFirstReturnsOldestMatch(t *testing.T) {
	var l Log[call]
	done := make(chan call, 1)
	go func() {
		c, err := l.WaitFirst(context.Background(), isA)
		if err != nil {
			t.Errorf("WaitFirst: %v", err)
		}
		done <- c
	}()
	l.Record(call{endpoint: "b"})
	l.Record(call{endpoint: "a", tags: []string{"first"}})
	l.Record(call{endpoint: "a", tags: []string{"second"}})
	if c := <-done; len(c.tags) != 1 || c.tags[0] != "first" {
		t.Errorf("WaitFirst = %v, want the first a", c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.WaitFirst(ctx, func(c call) bool { return c.endpoint == "none" }); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitFirst on a done ctx: %v, want context.Canceled", err)
	}
}

func TestHoldCountsHangingUntilRelease(t *testing.T) {
	var l Log[call]
	release := l.Hold()
	release2 := l.Hold()
	if got := l.Hanging(); got != 2 {
		t.Fatalf("Hanging = %d, want 2", got)
	}
	done := make(chan error, 1)
	go func() {
		_, err := l.WaitHanging(context.Background(), 0)
		done <- err
	}()
	release()
	release() // a second call is a no-op
	if got := l.Hanging(); got != 1 {
		t.Errorf("Hanging after one release twice = %d, want 1", got)
	}
	release2()
	if err := <-done; err != nil {
		t.Fatalf("WaitHanging(0): %v", err)
	}
	l.Reset()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got, err := l.WaitHanging(ctx, 1); got != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("WaitHanging(1) on a done ctx = %d, %v; want 0, context.Canceled", got, err)
	}
}

func TestConcurrentRecordsAllCounted(t *testing.T) {
	var l Log[call]
	const n = 50
	done := make(chan error, 1)
	go func() {
		_, err := l.WaitCount(context.Background(), func(call) bool { return true }, n)
		done <- err
	}()
	for range n {
		go l.Record(call{endpoint: "a"})
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := l.Count(isA); got != n {
		t.Errorf("Count = %d, want %d", got, n)
	}
}
