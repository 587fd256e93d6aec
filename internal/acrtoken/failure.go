package acrtoken

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/ocicred/ocicred/config"
)

// Kind classifies a failed token fetch by what the operator does about
// it. Its text starts the explanation the user reads.
type Kind string

// The kinds of failure. The codes behind each are Entra ID's AADSTS
// codes (learn.microsoft.com/entra/identity-platform/reference-error-codes),
// IMDS's answers and ACR's exchange statuses.
const (
	KindNoCredentials  Kind = "no Azure credentials"
	KindBadSecret      Kind = "Entra ID rejected the client secret"
	KindBadCertificate Kind = "the client certificate is unusable"
	KindBadIdentity    Kind = "Entra ID rejected the identity"
	KindClockSkew      Kind = "clock skew"
	KindUnauthorized   Kind = "ACR refused the Entra ID token"
	KindBadToken       Kind = "ACR answered an unusable token"
	KindThrottled      Kind = "throttled by Azure"
	KindUnavailable    Kind = "Azure service error"
	KindUnreachable    Kind = "Azure unreachable"
	KindOther          Kind = "Azure error"
)

// Failure is a failed token fetch, explained: Kind, the error Code Azure
// answered (an AADSTS code, ACR's error code, or "HTTP nnn"; empty when
// nothing answered), and Msg, one line that ends with what to do. It
// never holds a secret or a token. It wraps the underlying error, whose
// text may be long (azidentity's holds the whole response); print Msg.
type Failure struct {
	Kind Kind
	Code string
	Msg  string
	err  error
}

func (e *Failure) Error() string { return e.Msg }
func (e *Failure) Unwrap() error { return e.err }

// Reason is the failure's short code for the refresh metric's reason
// label (spec, "Operating it"): the code Azure answered (AADSTS, ACR's, or
// "HTTP nnn"), "NoCredentials" when the node has none, "clock_skew"; empty
// otherwise, for the caller to classify.
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
		return string(k) + ": give the node the identity the credentials name (assign the managed identity to this machine; set AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE for workload identity), or name one in the config"
	case KindBadSecret:
		return string(k) + ": check that clientSecret (or its file or variable) holds the secret's value, not its id, and that it has not expired (az ad app credential list)"
	case KindBadCertificate:
		return string(k) + ": certificateFile must be a PEM holding the certificate and its private key (certificatePasswordFile when encrypted), uploaded to the application"
	case KindBadIdentity:
		return string(k) + ": check tenantId, clientId and that the application (or its federated credential's issuer and subject) exists in that tenant"
	case KindClockSkew:
		return string(k) + ": the node's clock differs from Entra ID's; synchronise it (timedatectl status, chronyc tracking)"
	case KindUnauthorized:
		return string(k) + ": give the identity the AcrPull role on the registry (`ocicred policy`), check tenantId is the registry's tenant, and that the registry takes ACR-audience tokens"
	case KindBadToken:
		return string(k) + ": check that endpoint is the registry's login server (NAME.azurecr.io) and not a proxy or mirror"
	case KindThrottled:
		return string(k) + ": retrying with backoff; other callers share this identity's limits"
	case KindUnavailable:
		return string(k) + ": retrying; see https://azure.status.microsoft if it persists"
	case KindUnreachable:
		return string(k) + ": check the node's network, proxy (NO_PROXY must hold 169.254.169.254 for managed identity), DNS and firewall towards the authority and the registry"
	}
	return string(k) + ": see the code and message above"
}

// Explain turns an error of a fetch into a *Failure (one line with the
// kind, Azure's code and what to do); a *Failure is returned as it is,
// unless a deadline or cancellation cut the fetch (KindUnreachable).
func Explain(err error) error { return explain(err, nil, "", 0) }

// explain is Explain for a fetch of reg (nil: unknown) that failed at
// step ("": unknown) after waiting so long (0: unknown).
func explain(err error, reg *config.Registry, step string, waited time.Duration) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		if step == "" {
			step = "Azure"
		}
		msg := "no answer from " + step + " in time"
		if waited > 0 {
			msg = fmt.Sprintf("no answer from %s within %s", step, waited.Round(100*time.Millisecond))
		}
		return &Failure{Kind: KindUnreachable, Msg: msg + "; " + advice(KindUnreachable), err: err}
	}
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	var ee *exchangeError
	if errors.As(err, &ee) {
		return explainExchange(ee, reg)
	}
	var afe *azidentity.AuthenticationFailedError
	if errors.As(err, &afe) && afe.RawResponse != nil {
		return explainEntra(afe, reg)
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &oe) || errors.As(err, &ne) {
		return &Failure{Kind: KindUnreachable, Msg: "cannot reach Azure: " + oneLine(err.Error()) + "; " + advice(KindUnreachable), err: err}
	}
	if errors.As(err, &afe) {
		// azidentity answered without a response: a transport failure it
		// flattened into text.
		return &Failure{Kind: KindUnreachable, Msg: "cannot reach Entra ID: " + oneLine(err.Error()) + "; " + advice(KindUnreachable), err: err}
	}
	// Neither an answer nor a network error: azidentity found no
	// credentials to try (its CredentialUnavailableError).
	return noCredentials(reg, err)
}

// explainExchange explains a failed ACR exchange.
func explainExchange(e *exchangeError, reg *config.Registry) *Failure {
	where := "ACR /oauth2/exchange"
	if reg != nil {
		where = "ACR " + reg.Host + " /oauth2/exchange"
	}
	if e.err != nil {
		return &Failure{Kind: KindUnreachable, Msg: "cannot reach " + where + ": " + oneLine(e.err.Error()) + "; " + advice(KindUnreachable), err: e}
	}
	kind := KindOther
	switch {
	case e.status == http.StatusUnauthorized || e.status == http.StatusForbidden:
		kind = KindUnauthorized
	case e.status == http.StatusTooManyRequests:
		kind = KindThrottled
	case e.status >= 500:
		kind = KindUnavailable
	case e.status == http.StatusNotFound:
		kind = KindBadToken
	}
	code := e.code
	if code == "" {
		code = fmt.Sprintf("HTTP %d", e.status)
	}
	msg := fmt.Sprintf("%s answered %d %s", where, e.status, code)
	if e.msg != "" {
		msg += ": " + e.msg
	}
	return &Failure{Kind: kind, Code: code, Msg: msg + "; " + advice(kind), err: e}
}

// entraAnswer is Entra ID's (and IMDS's) error body.
type entraAnswer struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Codes       []int  `json:"error_codes"`
}

// explainEntra explains an answer of Entra ID or of the managed-identity
// endpoint that azidentity turned into an error.
func explainEntra(afe *azidentity.AuthenticationFailedError, reg *config.Registry) *Failure {
	resp := afe.RawResponse
	var a entraAnswer
	if body, err := runtime.Payload(resp); err == nil {
		_ = json.Unmarshal(body, &a)
	}
	code := ""
	if len(a.Codes) > 0 {
		code = fmt.Sprintf("AADSTS%d", a.Codes[0])
	} else if a.Error != "" {
		code = a.Error
	} else {
		code = fmt.Sprintf("HTTP %d", resp.StatusCode)
	}
	kind := KindOther
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		kind = KindThrottled
	case resp.StatusCode >= 500:
		kind = KindUnavailable
	case code == "AADSTS7000215" || code == "AADSTS7000222":
		kind = KindBadSecret
	case code == "AADSTS700024" || code == "AADSTS700025":
		kind = KindClockSkew
	case code == "AADSTS700027":
		kind = KindBadCertificate
	case strings.HasPrefix(code, "AADSTS") || a.Error == "invalid_client" || a.Error == "unauthorized_client":
		kind = KindBadIdentity
	case fromManagedIdentity(resp, reg) && resp.StatusCode == http.StatusBadRequest:
		// IMDS's 400: the identity is not assigned to this machine.
		kind = KindNoCredentials
	}
	where := "Entra ID"
	switch {
	case fromManagedIdentity(resp, reg):
		where = "the managed identity endpoint"
	case resp.Request != nil:
		where += " " + resp.Request.URL.Host
	}
	if reg != nil {
		where = Describe(reg) + ": " + where
	}
	desc := a.Description
	if desc == "" {
		desc = http.StatusText(resp.StatusCode)
	}
	msg := fmt.Sprintf("%s answered %d %s: %s", where, resp.StatusCode, code, oneLine(desc))
	return &Failure{Kind: kind, Code: code, Msg: msg + "; " + advice(kind), err: afe}
}

// isManagedIdentity reports whether reg's identity is a managed identity.
func isManagedIdentity(reg *config.Registry) bool {
	return reg != nil && credentialsOf(reg).Type == config.CredManagedIdentity
}

// fromManagedIdentity reports whether resp is a managed-identity
// endpoint's: IMDS's (also in the default chain), or any answer to a
// managedIdentity credential (App Service and the other sources).
func fromManagedIdentity(resp *http.Response, reg *config.Registry) bool {
	if resp.Request != nil && resp.Request.URL.Hostname() == imdsHost {
		return true
	}
	return isManagedIdentity(reg)
}

// noCredentials explains that reg's identity could not be found or built.
func noCredentials(reg *config.Registry, err error) *Failure {
	what := "the credentials"
	if reg != nil {
		what = Describe(reg)
	}
	return &Failure{Kind: KindNoCredentials,
		Msg: fmt.Sprintf("%s: %s: %s; %s", KindNoCredentials, what, oneLine(err.Error()), advice(KindNoCredentials)),
		err: errors.Join(errNoCredentials, err)}
}

// errNoCredentials marks a Failure of KindNoCredentials for errors.Is.
var errNoCredentials = errors.New("no Azure credentials")

// badToken explains an exchange answer acrtoken cannot use.
func badToken(reg *config.Registry, why string) *Failure {
	return &Failure{Kind: KindBadToken, Msg: fmt.Sprintf("%s from %s: %s; %s", KindBadToken, reg.Host, why, advice(KindBadToken))}
}

// oneLine makes s one line (Entra appends trace ids on more lines;
// azidentity puts the cause of a failed request on the next one), at most
// 300 bytes.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
