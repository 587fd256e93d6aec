package awsfake

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// rawRegion is the region raw requests are signed for.
const rawRegion = "us-west-2"

// post signs a raw request for service with the static test key, as the SDK
// would, lets each tamper change it after signing, and sends it to the fake.
// An empty service sends it unsigned.
func post(t *testing.T, srv *Server, service string, headers map[string]string, body string,
	tamper ...func(*http.Request)) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if service != "" {
		sum := sha256.Sum256([]byte(body))
		creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
		if err := v4.NewSigner().SignHTTP(testCtx(t), creds, req, hex.EncodeToString(sum[:]),
			service, rawRegion, time.Now()); err != nil {
			t.Fatalf("sign: %v", err)
		}
	}
	for _, fn := range tamper {
		fn(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// ecrHeaders are the headers of an awsJson1_1 call to target.
func ecrHeaders(target string) map[string]string {
	return map[string]string{
		"X-Amz-Target": target,
		"Content-Type": "application/x-amz-json-1.1",
	}
}

// jsonService is the signing name of an awsJson1_1 target.
func jsonService(target string) string {
	if strings.HasPrefix(target, ecrPublicTargetPrefix) {
		return "ecr-public"
	}
	return "ecr"
}

func TestWireECRAnswer(t *testing.T) {
	srv, _, _ := start(t)
	resp, body := post(t, srv, "ecr", ecrHeaders(ecrTargetPrefix+".GetAuthorizationToken"), "{}")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var out struct {
		AuthorizationData []map[string]any `json:"authorizationData"`
	}
	if err := json.Unmarshal(body, &out); err != nil || len(out.AuthorizationData) != 1 {
		t.Fatalf("body %s: %v", body, err)
	}
	d := out.AuthorizationData[0]
	if _, ok := d["expiresAt"].(float64); !ok {
		t.Errorf("expiresAt is %T, want a JSON number", d["expiresAt"])
	}
	if d["proxyEndpoint"] != "https://123456789012.dkr.ecr.us-west-2.amazonaws.com" {
		t.Errorf("proxyEndpoint = %v", d["proxyEndpoint"])
	}
	if got := srv.Calls()[0]; got.AccessKeyID != testKeyID || got.Region != rawRegion {
		t.Errorf("credential scope parsed as %q %q", got.AccessKeyID, got.Region)
	}
}

func TestWireJSONErrors(t *testing.T) {
	tests := []struct {
		name, target, body string
		fault              Fault
		status             int
		code               string
	}{
		{"throttled", ecrTargetPrefix + ".GetAuthorizationToken", "{}", Throttling, 400, "ThrottlingException"},
		{"server", ecrPublicTargetPrefix + ".GetAuthorizationToken", "{}", ServerError, 500, "ServerException"},
		{"unknown operation", ecrTargetPrefix + ".DeleteRepository", "{}", NoFault, 400, "UnknownOperationException"},
		{"unknown service", "Nope.GetAuthorizationToken", "{}", NoFault, 400, "UnknownOperationException"},
		{"bad json", ecrTargetPrefix + ".GetAuthorizationToken", "{", NoFault, 400, "SerializationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _, _ := start(t)
			if tt.fault != NoFault {
				srv.Inject(tt.fault, AnyAction, Forever)
			}
			resp, body := post(t, srv, jsonService(tt.target), ecrHeaders(tt.target), tt.body)
			var e struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("error body %s: %v", body, err)
			}
			if resp.StatusCode != tt.status || e.Type != tt.code || resp.Header.Get("X-Amzn-ErrorType") != tt.code {
				t.Errorf("got %d %q (header %q), want %d %q", resp.StatusCode, e.Type,
					resp.Header.Get("X-Amzn-ErrorType"), tt.status, tt.code)
			}
			if resp.Header.Get("X-Amzn-RequestId") == "" {
				t.Error("no X-Amzn-RequestId")
			}
		})
	}
}

// stsHeaders are the headers of a query-protocol call.
func stsHeaders() map[string]string {
	return map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
}

func TestWireSTSAssumeRole(t *testing.T) {
	srv, _, _ := start(t)
	form := url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"},
		"RoleArn": {testRole}, "RoleSessionName": {"raw"}, "ExternalId": {"x"}, "DurationSeconds": {"900"}}
	resp, body := post(t, srv, "sts", stsHeaders(), form.Encode())
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var out struct {
		XMLName xml.Name
		Result  struct {
			Credentials struct{ AccessKeyId, SecretAccessKey, SessionToken, Expiration string }
			User        struct{ Arn, AssumedRoleId string } `xml:"AssumedRoleUser"`
		} `xml:"AssumeRoleResult"`
		RequestID string `xml:"ResponseMetadata>RequestId"`
	}
	if err := xml.Unmarshal(body, &out); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	if out.XMLName.Local != "AssumeRoleResponse" || out.XMLName.Space != "https://sts.amazonaws.com/doc/2011-06-15/" {
		t.Errorf("root element %v", out.XMLName)
	}
	cr := out.Result.Credentials
	if !strings.HasPrefix(cr.AccessKeyId, "ASIA") || len(cr.AccessKeyId) != 20 || cr.SecretAccessKey == "" ||
		cr.SessionToken == "" || !strings.HasSuffix(cr.Expiration, "Z") || out.RequestID == "" {
		t.Errorf("credentials or metadata incomplete: %s", body)
	}
	if out.Result.User.Arn != "arn:aws:sts::210987654321:assumed-role/puller/raw" {
		t.Errorf("AssumedRoleUser.Arn = %q", out.Result.User.Arn)
	}
}

func TestWireSTSErrors(t *testing.T) {
	tests := []struct {
		name   string
		form   url.Values
		fault  Fault
		status int
		side   string
		code   string
	}{
		{"denied", url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}}, AccessDenied, 403, "Sender", "AccessDenied"},
		{"internal", url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}}, ServerError, 500, "Receiver", "InternalFailure"},
		{"unknown action", url.Values{"Action": {"GetSessionToken"}, "Version": {"2011-06-15"}}, NoFault, 400, "Sender", "InvalidAction"},
		{"wrong version", url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2010-01-01"}}, NoFault, 400, "Sender", "InvalidAction"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _, _ := start(t)
			if tt.fault != NoFault {
				srv.Inject(tt.fault, AnyAction, Forever)
			}
			resp, body := post(t, srv, "sts", stsHeaders(), tt.form.Encode())
			var e struct {
				XMLName xml.Name
				Error   struct{ Type, Code, Message string }
				ID      string `xml:"RequestId"`
			}
			if err := xml.Unmarshal(body, &e); err != nil {
				t.Fatalf("error body %s: %v", body, err)
			}
			if e.XMLName.Local != "ErrorResponse" || resp.StatusCode != tt.status || e.Error.Type != tt.side ||
				e.Error.Code != tt.code || e.Error.Message == "" || e.ID == "" {
				t.Errorf("got %d %s, want %d %s %s", resp.StatusCode, body, tt.status, tt.side, tt.code)
			}
		})
	}
}
