// Package azfake is a stand-in for the Azure services ocicred talks to:
// Entra ID (over TLS, with its own CA), the managed-identity endpoints
// (IMDS and App Service's) and Azure Container Registry. It speaks their
// real wire protocols, so the real azidentity credentials talk to it
// unchanged: give them AuthorityHost as the authority (or
// AZURE_AUTHORITY_HOST, see Env), Transport as their transport (it trusts
// the CA, and routes IMDS's constant address and MSAL's instance discovery
// here), or SSL_CERT_FILE=CAFile in a subprocess.
//
// Read server.go first (New, Start, Env, AppServiceEnv), then
// principals.go (who may sign in, and how), entra.go (discovery and the
// token endpoint), imds.go (managed identity), registry.go (the ACR front),
// faults.go and calls.go.
//
// What it checks, as the cloud checks it:
//
//	GET  /{tenant}/v2.0/.well-known/openid-configuration   issuer on this host; unknown tenant: 400 AADSTS90002
//	GET  /common/discovery/instance                        recorded (EndpointDiscovery): a test proves it is not called
//	POST /{tenant}/oauth2/v2.0/token                       client_credentials only; scope the ACR scope
//	     (plus openid profile offline_access; ARM's only WithARMScope): else 400 AADSTS70011
//	     unknown client: 400 AADSTS700016; wrong secret: 401 AADSTS7000215
//	     certificate assertion: PS256 with x5t#S256 (or RS256 with x5t) of the registered
//	     certificate, signed by its key (else 401 AADSTS700027), aud the token endpoint,
//	     iss = sub = client id, nbf/exp within AssertionLeeway of the server's clock
//	     (else 400 AADSTS700024); federated assertion: equal to the registered token
//	     (else 400 AADSTS70021)
//	GET  IMDSURL/metadata/identity/oauth2/token            Metadata: true, api-version, resource,
//	     client_id | object_id | msi_res_id; numbers as strings; an identity not
//	     assigned: 400 "Identity not found"
//	GET  IMDSURL/msi/token                                 App Service: X-IDENTITY-HEADER (AppServiceEnv), mi_res_id
//	POST REGISTRY/oauth2/exchange                          grant_type access_token, service = the registry host,
//	     an Entra token this server signed and not expired, aud the ACR audience (ARM's
//	     unless DisableARMAudience), tid = tenant when sent, a principal with AcrPull
//	     (Grant): else 401 UNAUTHORIZED; answers {"refresh_token": JWT aud=HOST, iat, exp}
//	GET|POST REGISTRY/oauth2/token                         Basic NullUser:<refresh> or the refresh_token
//	     grant; a refresh token of another registry is refused
//	REGISTRY/v2/...                                        Bearer access token of this registry, pulls only;
//	     else 401 with Bearer realm="REGISTRY/oauth2/token",service="HOST"
//
// Every token the server issues is an RS256 JWT signed by its own key, so
// a token it did not issue (or issued for another registry) is refused.
//
// Faults (Inject, per endpoint) and their wire answers:
//
//	ServerError         500 server_error (registry: SERVER_ERROR)
//	ServiceUnavailable  503 temporarily_unavailable
//	Throttled           429 with Retry-After: 1
//	Hang                no answer until the request's context ends or Close
//	InvalidGrant        Entra 400 invalid_grant AADSTS70000; IMDS 400 Identity not found;
//	                    registry 401 UNAUTHORIZED
//	Expired             a normal answer, with a token that expired a minute ago
//
// Calls records every request without its secrets; WaitCalls and
// WaitHanging let a test wait for what a process it drives does, instead
// of sleeping.
//
// MSAL caches managed-identity tokens process-wide, by identity: a test
// that must see an IMDS call uses a fresh identity (its client id), and
// every Server of a process signs with one key, so that a cached token
// stays valid at a later Server.
//
// SetClockSkew shifts the server's clock: what it issues (iat, nbf, exp)
// and what it checks assertions and tokens against.
//
// Secrets (client secrets, assertions, tokens) are never logged nor
// recorded in Call.
package azfake
