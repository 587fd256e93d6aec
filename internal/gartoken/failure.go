package gartoken

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Kind classifies a failed token fetch by what the operator does about it.
// Its text starts the explanation the user reads.
type Kind string

// The kinds of failure. The codes behind each are Google's: OAuth2 error
// codes (RFC 6749 §5.2) from the token endpoint and STS, and the status
// names of Google APIs (google.rpc.Code) from IAM Credentials.
const (
	KindNoCredentials    Kind = "no Google credentials"
	KindBadCredentials   Kind = "unusable Google credentials"
	KindRejected         Kind = "Google rejected the credentials"
	KindClockSkew        Kind = "clock skew"
	KindPermissionDenied Kind = "permission denied"
	KindNoServiceAccount Kind = "the metadata server has no service account"
	KindUnreachable      Kind = "Google unreachable"
	KindBadAnswer        Kind = "unusable answer from Google"
	KindOther            Kind = "Google error"
)

// Failure is a failed token fetch, explained: Kind, Google's error Code
// when Google answered ("invalid_grant", "PERMISSION_DENIED", an HTTP
// status for the metadata server; empty otherwise), and Msg, one line that
// ends with what to do. Msg never holds a token, a key or a subject token.
type Failure struct {
	Kind Kind
	Code string
	Msg  string
	err  error
}

// Error returns Msg.
func (e *Failure) Error() string { return e.Msg }

// Unwrap returns the error the failure explains (the library's, or a
// context or network error), for errors.Is and errors.As.
func (e *Failure) Unwrap() error { return e.err }

// Reason is the failure's short code for the refresh metric's reason
// label (spec, "Operating it"): Google's error code when Google answered,
// "NoCredentials" when the node has none, "clock_skew"; empty otherwise,
// for the caller to classify.
func (e *Failure) Reason() string {
	switch {
	case e.Code != "":
		return e.Code
	case e.Kind == KindNoCredentials:
		return "NoCredentials"
	case e.Kind == KindClockSkew:
		return "clock_skew"
	}
	return ""
}

// advice says what to do about a kind of failure.
func advice(k Kind) string {
	switch k {
	case KindNoCredentials:
		return "give the node a Google identity (GOOGLE_APPLICATION_CREDENTIALS, gcloud auth application-default login, or a VM service account), or name one in the config (credentials.type: serviceAccountKey, workloadIdentity or impersonate)"
	case KindBadCredentials:
		return "fix the credentials file the message names (a service_account key from `gcloud iam service-accounts keys create`, or an external_account file from `gcloud iam workload-identity-pools create-cred-config`)"
	case KindRejected:
		return "check the key's service account and the key itself still exist and are enabled (gcloud iam service-accounts keys list), or that the workload identity provider still trusts the subject token"
	case KindClockSkew:
		return "the node's clock differs from Google's; synchronise it (NTP)"
	case KindPermissionDenied:
		return "give the calling identity roles/iam.serviceAccountTokenCreator on the service account it impersonates, and check that account exists"
	case KindNoServiceAccount:
		return "attach a service account to the VM or node pool (with the cloud-platform access scope), or configure credentials explicitly"
	case KindUnreachable:
		return "check the node's network, proxy (HTTPS_PROXY, NO_PROXY) and DNS for oauth2.googleapis.com, sts.googleapis.com and iamcredentials.googleapis.com, and the metadata server"
	case KindBadAnswer:
		return "retrying; if it persists, the endpoint is not Google's (check token_uri, token_url and GCE_METADATA_HOST)"
	}
	return "see the code and message above"
}

// fail makes a Failure of kind k: msg, then the kind and its advice.
func fail(k Kind, code, msg string, err error) *Failure {
	return &Failure{Kind: k, Code: code, Msg: msg + "; " + string(k) + ": " + advice(k), err: err}
}

// oauthAnswer is an OAuth2 error body (token endpoint, STS).
type oauthAnswer struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// googleAnswer is a Google API error body (IAM Credentials).
type googleAnswer struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
	} `json:"error"`
}

// kindOfOAuth classifies an OAuth2 error code and description.
func kindOfOAuth(code, desc string) Kind {
	switch code {
	case "invalid_grant":
		// Google's only word for a time window: "Token must be a
		// short-lived token (60 minutes) and in a reasonable timeframe.
		// Check your iat and exp values".
		if strings.Contains(desc, "iat and exp") || strings.Contains(desc, "reasonable timeframe") {
			return KindClockSkew
		}
		return KindRejected
	case "invalid_client", "unauthorized_client", "invalid_target", "access_denied":
		return KindRejected
	case "invalid_scope":
		return KindBadCredentials
	}
	return KindOther
}

// kindOfStatus classifies a Google API status name (google.rpc.Code).
func kindOfStatus(status string, code int) Kind {
	switch {
	case status == "PERMISSION_DENIED" || status == "NOT_FOUND" || code == 403 || code == 404:
		return KindPermissionDenied
	case status == "UNAUTHENTICATED" || code == 401:
		return KindRejected
	case status == "INVALID_ARGUMENT" || code == 400:
		return KindBadCredentials
	case code >= 500:
		return KindUnreachable
	}
	return KindOther
}

// explainAnswer explains a non-2xx answer of a Google endpoint (what, e.g.
// "token endpoint http://…/token") from its status and body. The body is
// an error document: it holds no token. skewNote, when not empty, is added
// to a clock-skew failure.
func explainAnswer(what string, status int, body []byte, err error, skewNote string) *Failure {
	var oa oauthAnswer
	if json.Unmarshal(body, &oa) == nil && oa.Error != "" {
		k := kindOfOAuth(oa.Error, oa.Description)
		if status >= 500 {
			k = KindUnreachable
		}
		msg := fmt.Sprintf("%s answered %d %s: %s", what, status, oa.Error, strings.TrimSuffix(oneLine(oa.Description), "."))
		if k == KindClockSkew && skewNote != "" {
			msg += " (" + skewNote + ")"
		}
		return fail(k, oa.Error, msg, err)
	}
	var ga googleAnswer
	if json.Unmarshal(body, &ga) == nil && (ga.Error.Status != "" || ga.Error.Code != 0) {
		k := kindOfStatus(ga.Error.Status, status)
		return fail(k, ga.Error.Status, fmt.Sprintf("%s answered %d %s: %s", what, status, ga.Error.Status, oneLine(ga.Error.Message)), err)
	}
	k := kindOfStatus("", status)
	return fail(k, fmt.Sprint(status), fmt.Sprintf("%s answered %d", what, status), err)
}

// oneLine keeps the first line of a message, at most 300 bytes.
func oneLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// Explain turns any error of a fetch into a *Failure; a *Failure is
// returned as it is. Errors from elsewhere are classified as well as their
// type allows: a deadline or a network error means unreachable.
func Explain(err error) error { return explain(err, "Google", 0) }

// explain is Explain for a call to what that waited so long (0: unknown).
func explain(err error, what string, waited time.Duration) error {
	if err == nil {
		return nil
	}
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	if errors.Is(err, context.DeadlineExceeded) {
		msg := what + " did not answer in time"
		if waited > 0 {
			msg = fmt.Sprintf("%s did not answer within %s", what, waited.Round(100*time.Millisecond))
		}
		return fail(KindUnreachable, "", msg, err)
	}
	if errors.Is(err, context.Canceled) {
		return fail(KindUnreachable, "", "the fetch was cancelled while waiting for "+what, err)
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return fail(KindUnreachable, "", "cannot reach "+what+": "+oneLine(err.Error()), err)
	}
	return fail(KindOther, "", what+": "+oneLine(err.Error()), err)
}
