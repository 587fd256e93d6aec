package awsfake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/textproto"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// sigV4Algorithm is the only signing algorithm the fake knows.
const sigV4Algorithm = "AWS4-HMAC-SHA256"

// amzDateFormat is the layout of X-Amz-Date.
const amzDateFormat = "20060102T150405Z"

// sigV4 is the parsed Authorization header of a SigV4-signed request:
// "AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request,
// SignedHeaders=host;x-amz-date, Signature=hex".
type sigV4 struct {
	algorithm     string
	akid          string // the credential scope, split
	date          string
	region        string
	service       string
	terminator    string
	signedHeaders string // as sent, e.g. "host;x-amz-date"
	signature     string // hex, as sent
}

// parseSigV4 reads an Authorization header. A header without a credential
// scope of five parts has no akid: the call counts as unsigned.
func parseSigV4(authorization string) sigV4 {
	var a sigV4
	algorithm, rest, _ := strings.Cut(authorization, " ")
	a.algorithm = algorithm
	for part := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			if scope := strings.Split(v, "/"); len(scope) == 5 {
				a.akid, a.date, a.region, a.service, a.terminator = scope[0], scope[1], scope[2], scope[3], scope[4]
			}
		case "SignedHeaders":
			a.signedHeaders = v
		case "Signature":
			a.signature = v
		}
	}
	return a
}

// signedRequest is what a signature covers, kept from the received request.
type signedRequest struct {
	r    *http.Request
	body []byte
	auth sigV4
}

// regionPattern matches region names of every partition: us-west-2,
// cn-north-1, us-gov-west-1, us-iso-east-1, eu-isoe-west-1.
var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// checkScope checks what a signature needs besides the secret: a complete
// header, an X-Amz-Date the scope agrees with, and a scope naming service
// and a valid region. It returns AWS's answer when one fails.
func checkScope(p protocol, sr signedRequest, service string) *apiError {
	a := sr.auth
	switch {
	case a.algorithm != sigV4Algorithm:
		return incompleteSignature(p, "Authorization header requires the "+sigV4Algorithm+" algorithm.")
	case a.signedHeaders == "":
		return incompleteSignature(p, "Authorization header requires 'SignedHeaders' parameter.")
	case a.signature == "":
		return incompleteSignature(p, "Authorization header requires 'Signature' parameter.")
	}
	amzDate := sr.r.Header.Get("X-Amz-Date")
	if _, err := time.Parse(amzDateFormat, amzDate); err != nil {
		return incompleteSignature(p, "Authorization header requires existence of a valid 'X-Amz-Date' header.")
	}
	switch {
	case a.date != amzDate[:8]:
		return badSignature(p, fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			a.date, amzDate[:8], amzDate))
	case a.service != service:
		return badSignature(p, fmt.Sprintf("Credential should be scoped to correct service: '%s'. ", service))
	case !regionPattern.MatchString(a.region):
		return badSignature(p, "Credential should be scoped to a valid region. ")
	case a.terminator != "aws4_request":
		return badSignature(p, "Credential should be scoped with a valid terminator: 'aws4_request'. ")
	}
	return nil
}

// verifySignature recomputes the signature of sr with secret, using the
// SDK's own signer over the headers the client signed, and reports whether
// it equals the one sent. checkScope must have passed.
func verifySignature(sr signedRequest, secret string) bool {
	want, err := resign(sr, secret)
	return err == nil && hmac.Equal([]byte(want), []byte(sr.auth.signature))
}

// resign signs a copy of the received request, reduced to the headers the
// client named in SignedHeaders, as the client's signer would have with
// secret at X-Amz-Date, and returns the signature.
func resign(sr signedRequest, secret string) (string, error) {
	r, a := sr.r, sr.auth
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	if r.TLS != nil {
		u.Scheme = "https"
	}
	out := &http.Request{Method: r.Method, URL: &u, Host: r.Host, Header: http.Header{}}
	for name := range strings.SplitSeq(a.signedHeaders, ";") {
		switch name {
		case "host": // the signer takes it from Host
		case "content-length":
			out.ContentLength = r.ContentLength
		default:
			key := textproto.CanonicalMIMEHeaderKey(name)
			out.Header[key] = append([]string(nil), r.Header.Values(key)...)
		}
	}
	signingTime, err := time.Parse(amzDateFormat, r.Header.Get("X-Amz-Date"))
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(sr.body)
	creds := aws.Credentials{AccessKeyID: a.akid, SecretAccessKey: secret}
	// The session token, when signed, is among the copied headers.
	noToken := func(o *v4.SignerOptions) { o.DisableSessionToken = true }
	if err := v4.NewSigner().SignHTTP(r.Context(), creds, out, hex.EncodeToString(sum[:]),
		a.service, a.region, signingTime, noToken); err != nil {
		return "", err
	}
	return parseSigV4(out.Header.Get("Authorization")).signature, nil
}

// signatureMismatch is AWS's message for a signature made with another
// secret (or over other bytes).
const signatureMismatch = "The request signature we calculated does not match the signature you provided. " +
	"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

// badSignature is AWS's answer to a signature that does not verify:
// InvalidSignatureException (JSON 1.1, 400) or SignatureDoesNotMatch
// (query, 403).
func badSignature(p protocol, msg string) *apiError {
	if p == protoJSON {
		return &apiError{http.StatusBadRequest, "InvalidSignatureException", msg}
	}
	return &apiError{http.StatusForbidden, "SignatureDoesNotMatch", msg}
}

// incompleteSignature is AWS's answer to an Authorization header that
// lacks a part of SigV4.
func incompleteSignature(p protocol, msg string) *apiError {
	if p == protoJSON {
		return &apiError{http.StatusBadRequest, "IncompleteSignatureException", msg}
	}
	return &apiError{http.StatusBadRequest, "IncompleteSignature", msg}
}
