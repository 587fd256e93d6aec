// Package gartoken gets Google OAuth2 access tokens for Google Artifact
// Registry and Container Registry (registry type gar): the password that
// goes with the user name oauth2accesstoken. Read fetcher.go first (Fetch,
// Forget), then sources.go (one function per credentials type),
// metadata.go (the GCE metadata server), impersonate.go (IAM Credentials
// generateAccessToken), failure.go (what a failure means and what to do)
// and identity.go (which registries share a token).
//
// Credentials types (config.Credentials.Type):
//
//	serviceAccountKey  the JWT-bearer grant at the key's token_uri; only
//	                   "type": "service_account" keys are taken
//	workloadIdentity   an external_account file: STS token exchange, then
//	                   generateAccessToken when it names an impersonation URL
//	impersonate        generateAccessToken for serviceAccount, called with
//	                   the token of Base (default: the default chain)
//	default            GOOGLE_APPLICATION_CREDENTIALS, the well-known gcloud
//	                   file, then the metadata server (GCE_METADATA_HOST honoured)
//
// # Why golang.org/x/oauth2/google
//
// The two Go libraries that speak Google's token protocols are
// golang.org/x/oauth2/google and cloud.google.com/go/auth. This package
// uses the first, as go-containerregistry's google keychain
// (pkg/v1/google) does:
//
//   - It is already in the module graph (client-go needs x/oauth2), its
//     API has been stable for years, and it adds one module
//     (cloud.google.com/go/compute/metadata) and a few go.sum lines;
//     cmd/ocicred grows by about 0.3 MB with this package linked in.
//     cloud.google.com/go/auth is pre-1.0 (its API still moves), and its
//     go.mod drags grpc, OpenTelemetry and gax into go.sum (49 lines).
//   - What cloud.google.com/go/auth has in addition is an asynchronous
//     token refresh and its credentials/impersonate package. ocicred
//     schedules its own refreshes at half a token's life, so the first is
//     of no use; the second is one JSON POST (impersonate.go), which
//     this package writes by hand so that it takes a context, a timeout,
//     and any base identity, the metadata server included.
//   - x/oauth2 does the parts that are worth a library: signing the
//     RS256 assertion, and the whole external_account machinery (file,
//     URL, executable and AWS credential sources, STS, impersonation URL).
//
// Two things are deliberately not the library's. The metadata server is
// asked by metadata.go, not through metadata.OnGCE and ComputeTokenSource:
// OnGCE probes 169.254.169.254 for up to 5 s and memoises the answer for
// the whole process (a sync.Once), so a daemon started before its network
// would never look again; metadata.go asks the token path directly, on
// every fetch, with a bounded wait per attempt and retries, honouring
// GCE_METADATA_HOST as the Google libraries do. And the x/oauth2 token
// sources take no context: every request they make goes through an HTTP
// client whose transport applies the fetch's context, so a fetch is
// bounded (Timeout) whatever the server does, and records what the server
// answered, so that failures are classified on Google's own error codes
// rather than on the library's error text.
//
// The access token is cached by the caller (the daemon's token store),
// not here; only the base token of impersonate is kept, until it is
// within five minutes of its end.
package gartoken
