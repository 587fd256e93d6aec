// Package fakekit is the machinery the cloud fakes (awsfake, gcpfake,
// azfake) share: a call log that tests wait on without polling (Log), fault
// rules that a test injects for the next calls of an endpoint (Faults), and
// a slog logger that writes to t.Log (TestLogger). What a call records, how
// an endpoint is named and what a fault answers on the wire stay in each
// fake. Read log.go first.
package fakekit
