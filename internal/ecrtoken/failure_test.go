package ecrtoken

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/aws/smithy-go/logging"
	"github.com/ocicred/ocicred/test/awsfake"
)

// An identity with no AWS credentials anywhere, and an EC2 metadata
// endpoint that accepts connections and never answers (a firewalled or
// wedged IMDS): the fetch ends at CredentialsTimeout, not at the SDK's
// retries, with one line that says no credentials were found and where
// they were looked for, and no GetAuthorizationToken is made.
func TestNoCredentialsFailsFastAndSaysWhere(t *testing.T) {
	srv := startFake(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() { // accept and hold every connection, answer nothing
		var held []net.Conn
		defer func() {
			for _, c := range held {
				_ = c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	t.Setenv("AWS_EC2_METADATA_DISABLED", "false")
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://"+ln.Addr().String())
	reg := registry(t, `registries:
  - {name: dev, type: ecr, endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com, credentials: {type: default}}
`)
	_, err = NewFetcher().Fetch(testCtx(t), reg)
	var f *Failure
	if !errors.As(err, &f) || f.Kind != KindNoCredentials {
		t.Fatalf("Fetch with no credentials: %v (%T), want a Failure of kind %q", err, err, KindNoCredentials)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the fetch did not end at CredentialsTimeout: %v", err)
	}
	for _, want := range []string{"no AWS credentials found: looked in", "EC2 instance metadata", "credentials.type: secret"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "operation error") || strings.Contains(err.Error(), "\n") {
		t.Errorf("the error is the SDK's chain, not one line: %v", err)
	}
	if n := srv.CallCount(awsfake.ECRGetAuthorizationToken); n != 0 {
		t.Errorf("%d GetAuthorizationToken calls without credentials, want 0", n)
	}
}

// The SDK's own log lines go through slog, so --log-format json stays
// JSON: a warning is one JSON record at WARN.
func TestSDKLogsThroughSlog(t *testing.T) {
	var buf bytes.Buffer
	l := sdkLogger{slog.New(slog.NewJSONHandler(&buf, nil))}
	l.Logf(logging.Warn, "Response has no supported checksum. Not validating response payload.")
	l.Logf(logging.Debug, "not shown at info")
	var rec struct{ Level, Msg, Component string }
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil || rec.Level != "WARN" || rec.Component != "aws-sdk" || !strings.Contains(rec.Msg, "no supported checksum") {
		t.Errorf("the SDK warning became %q (%v)", buf.String(), err)
	}
	sdkLogger{}.Logf(logging.Warn, "a nil logger discards") // must not panic
}
