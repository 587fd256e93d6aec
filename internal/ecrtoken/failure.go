package ecrtoken

import (
	"errors"
	"fmt"

	"github.com/aws/smithy-go"
)

// Kind classifies a failed token fetch by what the operator does about it
// (spec, "Operating it"). Its text starts the explanation the user reads.
type Kind string

// The kinds of failure. The error codes behind each are AWS's, from the
// ECR, ECR Public and STS API references and the SDK's retry tables.
const (
	KindNoCredentials Kind = "no AWS credentials"
	KindAccessDenied  Kind = "access denied"
	KindBadKeys       Kind = "AWS rejected the keys"
	KindExpiredKeys   Kind = "AWS session keys expired"
	KindThrottled     Kind = "throttled by AWS"
	KindUnreachable   Kind = "AWS unreachable"
	KindClockSkew     Kind = "clock skew"
	KindOther         Kind = "AWS error"
)

// Failure is a failed token fetch, explained: Kind, AWS's error Code when
// AWS answered (empty for no credentials or no answer), and Msg, one line
// that ends with what to do. It wraps the SDK's error.
type Failure struct {
	Kind Kind
	Code string
	Msg  string
	err  error
}

func (e *Failure) Error() string { return e.Msg }
func (e *Failure) Unwrap() error { return e.err }

// Reason is the failure's short code for the refresh metric's reason
// label (spec, "Operating it"): AWS's error code when AWS answered,
// "NoCredentials" when the node has none; empty otherwise, for the caller
// to classify (a timeout, a clock skew found locally).
func (e *Failure) Reason() string {
	switch {
	case e.Code != "":
		return e.Code
	case e.Kind == KindNoCredentials:
		return "NoCredentials"
	}
	return ""
}

// kindOf classifies an error AWS answered with by its code.
func kindOf(ae smithy.APIError) Kind {
	switch ae.ErrorCode() {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedException":
		return KindAccessDenied
	case "UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException",
		"SignatureDoesNotMatch", "IncompleteSignature", "MissingAuthenticationToken", "InvalidAccessKeyId":
		return KindBadKeys
	case "ExpiredToken", "ExpiredTokenException":
		return KindExpiredKeys
	case "ThrottlingException", ThrottleException, "Throttling", "TooManyRequestsException",
		"RequestLimitExceeded", "RequestThrottled", "RequestThrottledException", "SlowDown":
		return KindThrottled
	case "RequestExpired", "RequestTimeTooSkewed", "SignatureExpired":
		return KindClockSkew
	}
	return KindOther
}

// advice says what to do about a kind of failure.
func advice(k Kind) string {
	switch k {
	case KindAccessDenied:
		return string(k) + ": give the identity the policy that `ocicred policy` prints (ecr:GetAuthorizationToken, and sts:AssumeRole on the role for type sts)"
	case KindBadKeys:
		return string(k) + ": check accessKeyId and where the secret key comes from (secretAccessKey, secretAccessKeyFile, secretAccessKeyEnv), or the keys the AWS default chain finds"
	case KindExpiredKeys:
		return string(k) + ": they are fetched again on the next try; if it persists, renew the keys the default chain finds"
	case KindThrottled:
		return string(k) + ": retrying with backoff; other callers share this account's GetAuthorizationToken limit"
	case KindUnreachable:
		return string(k) + ": check the node's network, proxy, DNS and any VPC endpoint (AWS_ENDPOINT_URL_ECR, AWS_ENDPOINT_URL_STS)"
	case KindClockSkew:
		return string(k) + ": the node's clock differs from AWS's; synchronise it (NTP)"
	}
	return string(k) + ": see the code and message above"
}

// noCredentials explains a failure to find credentials for an identity
// that has none in the config (type default, or sts without base keys):
// where the AWS default chain looked, and what to do.
func noCredentials(profile string, err error) *Failure {
	where := "the environment (AWS_ACCESS_KEY_ID), the shared files (~/.aws/credentials and ~/.aws/config, profile "
	if profile == "" {
		where += "default or AWS_PROFILE"
	} else {
		where += profile
	}
	where += "), web identity (AWS_WEB_IDENTITY_TOKEN_FILE), the ECS container endpoint and EC2 instance metadata"
	return &Failure{Kind: KindNoCredentials,
		Msg: fmt.Sprintf("%s found: looked in %s; give the node an AWS identity there, or put keys in the config (credentials.type: secret, or sts with accessKeyId)", KindNoCredentials, where),
		err: errors.Join(errNoCredentials, err)}
}

// errNoCredentials marks a Failure of KindNoCredentials for errors.Is.
var errNoCredentials = errors.New("no AWS credentials")
