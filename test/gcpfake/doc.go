// Package gcpfake is a stand-in for the Google services ocicred's gar
// token source talks to. It is an httptest server (plain HTTP) that speaks
// their real wire protocols, so the real golang.org/x/oauth2/google and
// cloud.google.com/go/compute/metadata clients talk to it unchanged: the
// endpoints come from the credential files it writes (token_uri,
// token_url, service_account_impersonation_url) and from
// GCE_METADATA_HOST (Setenv). Every endpoint CHECKS what Google checks, so
// that a client which sends the wrong thing fails here as it would there.
//
// Read server.go first (New, Start, the URLs), then one file per endpoint:
//
//	POST /token          oauth.go     the JWT-bearer grant (RFC 7523)
//	/computeMetadata/v1  metadata.go  the GCE metadata server
//	POST /v1/token       sts.go       STS token exchange (RFC 8693), form or JSON
//	POST /v1/projects/-/serviceAccounts/{email}:generateAccessToken
//	                     iam.go       IAM Credentials
//	registry front       registry.go  Artifact Registry's Bearer token dance
//
// and keys.go (service-account keys), tokens.go (issued tokens and the
// grants tests give), faults.go and calls.go.
//
// What each endpoint checks, and its refusals in Google's words:
//
//   - /token: a form body with grant_type jwt-bearer; an RS256 assertion
//     whose kid is a key NewKey made and not deleted (DeleteKey) for the
//     account named as iss (else invalid_grant "Invalid grant: account
//     not found"), whose signature holds (invalid_grant "Invalid JWT
//     Signature."), whose aud is TokenURL (invalid_grant "Failed audience
//     check"), which lasts at most an hour, was issued no more than a
//     minute ahead of the server's clock and has not expired by it
//     (invalid_grant SkewDescription), and that asks for a scope
//     (invalid_scope). Answers {"access_token","expires_in","token_type"}.
//   - metadata: the header Metadata-Flavor: Google (403 without), echoed
//     on every answer; instance/service-accounts/{default|EMAIL}/token
//     [?scopes=a,b], .../email, .../scopes[?alt=json], project/project-id;
//     404 when the instance has no service account (SetMetadataAccount).
//   - STS: grant_type token-exchange, requested_token_type access_token,
//     and a subject token registered (RegisterSubject) for that audience
//     (else invalid_target) and subject_token_type (else invalid_request).
//   - generateAccessToken: a Bearer token the server issued, unexpired
//     (else 401 UNAUTHENTICATED), with the cloud-platform scope and whose
//     principal may impersonate the account (AllowImpersonation; else 403
//     PERMISSION_DENIED), a scope, and a lifetime up to an hour
//     (WithMaxImpersonationLifetime; else 400 INVALID_ARGUMENT). Answers
//     {"accessToken","expireTime"}.
//   - registry front (NewRegistryFront): see there.
//
// Every access token is bound to its principal (a service account email,
// or the federated principal of a subject), its scopes and its expiry by
// the server's clock (WithNow). Faults (Inject, per endpoint):
//
//	fault               token endpoint / STS          metadata      IAM / registry token
//	ServerError         500 internal_failure          500           500 INTERNAL / UNAVAILABLE
//	ServiceUnavailable  503 temporarily_unavailable   503           503 UNAVAILABLE
//	Hang                no answer until the client gives up or Close
//	SlowHeaders         the answer after WithSlowDelay, unless the client gives up first
//	InvalidGrant        400 invalid_grant (the clock-skew text on /token)
//	ExpiredToken        200 with expires_in 0 (IAM: expireTime now)
//	NearExpiry          200 with expires_in 60
//	NotFound            -                             404
//
// Secrets (private keys, access tokens, subject tokens) are never logged
// nor recorded in Call.
package gcpfake
