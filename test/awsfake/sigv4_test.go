package awsfake

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// signaturePart matches the hex signature of an Authorization header.
var signaturePart = regexp.MustCompile(`Signature=[0-9a-f]+`)

// Tampers applied to a raw request after it was signed.
var (
	zeroSignature = func(r *http.Request) {
		r.Header.Set("Authorization", signaturePart.ReplaceAllString(r.Header.Get("Authorization"), "Signature=00"))
	}
	unknownKey = func(r *http.Request) {
		r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), testKeyID, "AKIAAWSFAKEUNKNOWN01", 1))
	}
	noDate         = func(r *http.Request) { r.Header.Del("X-Amz-Date") }
	changedHeader  = func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }
	dateAfterScope = func(r *http.Request) {
		d, _ := time.Parse(amzDateFormat, r.Header.Get("X-Amz-Date"))
		r.Header.Set("X-Amz-Date", d.Add(24*time.Hour).Format(amzDateFormat))
	}
)

// replaceBody swaps the body signed for another one.
func replaceBody(body string) func(*http.Request) {
	return func(r *http.Request) {
		r.Body = io.NopCloser(strings.NewReader(body))
		r.ContentLength = int64(len(body))
	}
}

// TestWireSignatureChecks sends raw requests signed with a registered key,
// then spoiled after signing, and checks each is refused in its protocol's
// own words, with the signed one as the control.
func TestWireSignatureChecks(t *testing.T) {
	ecrTarget := ecrTargetPrefix + ".GetAuthorizationToken"
	whoami := url.Values{"Action": {"GetCallerIdentity"}, "Version": {stsVersion}}.Encode()
	assume := url.Values{"Action": {"AssumeRole"}, "Version": {stsVersion},
		"RoleArn": {testRole}, "RoleSessionName": {"raw"}}.Encode()
	tests := []struct {
		name    string
		json    bool   // ECR (awsJson1_1) or STS (query)
		service string // signing name used
		tamper  func(*http.Request)
		status  int
		code    string
		message string // a part of the message; "" not checked
	}{
		{"ECR signed", true, "ecr", nil, 200, "", ""},
		{"ECR Signature=00", true, "ecr", zeroSignature, 400, "InvalidSignatureException", "does not match the signature you provided"},
		{"ECR body changed", true, "ecr", replaceBody(`{"registryIds":["111111111111"]}`), 400, "InvalidSignatureException", "does not match"},
		{"ECR signed header changed", true, "ecr", changedHeader, 400, "InvalidSignatureException", "does not match"},
		{"ECR scoped to sts", true, "sts", nil, 400, "InvalidSignatureException", "Credential should be scoped to correct service: 'ecr'."},
		{"ECR date not the scope's", true, "ecr", dateAfterScope, 400, "InvalidSignatureException", "Date in Credential scope does not match"},
		{"ECR no X-Amz-Date", true, "ecr", noDate, 400, "IncompleteSignatureException", "X-Amz-Date"},
		{"ECR unknown key", true, "ecr", unknownKey, 400, "UnrecognizedClientException", "security token included in the request is invalid"},
		{"STS signed", false, "sts", nil, 200, "", ""},
		{"STS Signature=00", false, "sts", zeroSignature, 403, "SignatureDoesNotMatch", "does not match the signature you provided"},
		{"STS body changed", false, "sts", replaceBody(assume), 403, "SignatureDoesNotMatch", "does not match"},
		{"STS scoped to ecr", false, "ecr", nil, 403, "SignatureDoesNotMatch", "Credential should be scoped to correct service: 'sts'."},
		{"STS no X-Amz-Date", false, "sts", noDate, 400, "IncompleteSignature", "X-Amz-Date"},
		{"STS unknown key", false, "sts", unknownKey, 403, "InvalidClientTokenId", "security token included in the request is invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _, _ := start(t)
			var tamper []func(*http.Request)
			if tt.tamper != nil {
				tamper = append(tamper, tt.tamper)
			}
			var resp *http.Response
			var body []byte
			if tt.json {
				resp, body = post(t, srv, tt.service, ecrHeaders(ecrTarget), "{}", tamper...)
			} else {
				resp, body = post(t, srv, tt.service, stsHeaders(), whoami, tamper...)
			}
			code, msg := errorAnswer(t, tt.json, resp, body)
			if resp.StatusCode != tt.status || code != tt.code || !strings.Contains(msg, tt.message) {
				t.Errorf("answer %d %q %q, want %d %q with %q", resp.StatusCode, code, msg, tt.status, tt.code, tt.message)
			}
			calls := srv.Calls()
			if len(calls) != 1 || calls[0].ErrorCode != tt.code {
				t.Errorf("recorded %+v, want one call with error %q", calls, tt.code)
			}
			if tokens, keys := issued(srv); tt.code != "" && (tokens != 0 || keys != 0) {
				t.Errorf("a refused call issued %d tokens and %d keys", tokens, keys)
			}
		})
	}
}

// issued counts the registry tokens and temporary keys srv has issued.
func issued(srv *Server) (tokens, keys int) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return len(srv.state.tokens), len(srv.state.keys)
}

// errorAnswer returns the error code and message of an answer in its
// protocol's encoding, "" for a 200; for JSON it checks that the header
// X-Amzn-ErrorType and the body's __type agree.
func errorAnswer(t *testing.T, isJSON bool, resp *http.Response, body []byte) (code, msg string) {
	t.Helper()
	if resp.StatusCode == http.StatusOK {
		return "", ""
	}
	if isJSON {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatalf("JSON error body %s: %v", body, err)
		}
		if h := resp.Header.Get("X-Amzn-ErrorType"); h != e.Type {
			t.Errorf("X-Amzn-ErrorType %q, __type %q", h, e.Type)
		}
		return e.Type, e.Message
	}
	var e struct {
		XMLName xml.Name
		Error   struct{ Type, Code, Message string }
	}
	if err := xml.Unmarshal(body, &e); err != nil {
		t.Fatalf("XML error body %s: %v", body, err)
	}
	if e.XMLName.Local != "ErrorResponse" || e.Error.Type != "Sender" {
		t.Errorf("XML error %s, want an ErrorResponse of type Sender", body)
	}
	return e.Error.Code, e.Error.Message
}

// TestSDKWrongSecretRefused: the real SDK signing with the registered key
// id but another secret is refused on every action, at once (the SDK does
// not retry a bad signature), and the logs hold neither secret.
func TestSDKWrongSecretRefused(t *testing.T) {
	const wrongSecret = "awsfake-wrong-secret-must-not-leak"
	tests := []struct {
		target target
		code   string
	}{
		{ecrTarget, "InvalidSignatureException"},
		{ecrPublicTarget, "InvalidSignatureException"},
		{assumeRoleTarget, "SignatureDoesNotMatch"},
		{callerIdentityTarget, "SignatureDoesNotMatch"},
	}
	for _, tt := range tests {
		t.Run(tt.target.action, func(t *testing.T) {
			var logs bytes.Buffer
			var mu sync.Mutex
			srv, _, _ := start(t, WithLogger(slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))))
			c := newClients(srv, sdkConfig(t, credentials.NewStaticCredentialsProvider(testKeyID, wrongSecret, "")))
			err := tt.target.call(testCtx(t), c)
			if code := errorCode(err); code != tt.code {
				t.Errorf("error %v (code %q), want %q", err, code, tt.code)
			}
			if n := srv.CallCount(AnyAction); n != 1 {
				t.Errorf("%d attempts, want 1", n)
			}
			mu.Lock()
			defer mu.Unlock()
			if strings.Contains(logs.String(), wrongSecret) || strings.Contains(logs.String(), testSecret) {
				t.Error("the logs hold a secret key")
			}
		})
	}
}

// TestSDKUnknownKeyRefused: a key id the fake was never told of is refused
// as AWS refuses one, not let through unverified.
func TestSDKUnknownKeyRefused(t *testing.T) {
	srv, _, _ := start(t)
	c := newClients(srv, sdkConfig(t, credentials.NewStaticCredentialsProvider("AKIAAWSFAKEUNKNOWN01", testSecret, "")))
	if code := errorCode(ecrTarget.call(testCtx(t), c)); code != "UnrecognizedClientException" {
		t.Errorf("ECR with an unknown key: code %q, want UnrecognizedClientException", code)
	}
	if code := errorCode(callerIdentityTarget.call(testCtx(t), c)); code != "InvalidClientTokenId" {
		t.Errorf("STS with an unknown key: code %q, want InvalidClientTokenId", code)
	}
	if got := srv.Calls()[0]; got.Principal != "" || got.AccessKeyID != "AKIAAWSFAKEUNKNOWN01" {
		t.Errorf("call record %+v: want the key id and no principal", got)
	}
}

// TestTemporaryKeyNeedsItsSecret: keys AssumeRole issued verify with their
// own secret only, even with the right session token.
func TestTemporaryKeyNeedsItsSecret(t *testing.T) {
	srv, _, base := start(t)
	out, err := base.sts.AssumeRole(testCtx(t), &sts.AssumeRoleInput{
		RoleArn: aws.String(testRole), RoleSessionName: aws.String("s1")})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	k := out.Credentials
	for _, tt := range []struct {
		name, secret, ecrCode, stsCode string
	}{
		{"its secret", aws.ToString(k.SecretAccessKey), "", ""},
		{"another secret", aws.ToString(k.SecretAccessKey) + "x", "InvalidSignatureException", "SignatureDoesNotMatch"},
		{"the base key's secret", testSecret, "InvalidSignatureException", "SignatureDoesNotMatch"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newClients(srv, sdkConfig(t, credentials.NewStaticCredentialsProvider(
				aws.ToString(k.AccessKeyId), tt.secret, aws.ToString(k.SessionToken))))
			_, err := c.ecr.GetAuthorizationToken(testCtx(t), &ecr.GetAuthorizationTokenInput{})
			if code := errorCode(err); code != tt.ecrCode {
				t.Errorf("ECR: error %v (code %q), want %q", err, code, tt.ecrCode)
			}
			_, err = c.sts.GetCallerIdentity(testCtx(t), &sts.GetCallerIdentityInput{})
			if code := errorCode(err); code != tt.stsCode {
				t.Errorf("STS: error %v (code %q), want %q", err, code, tt.stsCode)
			}
		})
	}
}

// TestAddKey: a key registered after start is known from then on, and
// registering it again with another secret rotates it.
func TestAddKey(t *testing.T) {
	const id = "AKIAAWSFAKEADDED0001"
	srv, _, _ := start(t)
	call := func(secret string) string {
		c := newClients(srv, sdkConfig(t, credentials.NewStaticCredentialsProvider(id, secret, "")))
		return errorCode(ecrTarget.call(testCtx(t), c))
	}
	if code := call("first-secret"); code != "UnrecognizedClientException" {
		t.Errorf("before AddKey: code %q, want UnrecognizedClientException", code)
	}
	srv.AddKey(id, "first-secret")
	if code := call("first-secret"); code != "" {
		t.Errorf("after AddKey: code %q, want success", code)
	}
	srv.AddKey(id, "second-secret")
	if code := call("first-secret"); code != "InvalidSignatureException" {
		t.Errorf("the old secret after a rotation: code %q, want InvalidSignatureException", code)
	}
	if code := call("second-secret"); code != "" {
		t.Errorf("the new secret after a rotation: code %q, want success", code)
	}
}
