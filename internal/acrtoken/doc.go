// Package acrtoken gets Azure Container Registry refresh tokens: an Entra
// ID token for the ACR scope from azidentity (client secret, client
// certificate, managed identity, workload identity or azidentity's default
// chain; credential.go), exchanged at the registry's own /oauth2/exchange
// (exchange.go, written by hand: three form fields and a JWT to read).
// The refresh token is bound to one registry, so a Key is an identity and
// a registry host (identity.go); the Entra token is shared by the
// registries of one identity, since a Fetcher keeps one credential per
// identity and azidentity caches its tokens. Failures are *Failure values
// of a Kind, each ending with what to do (failure.go). Read fetcher.go
// first.
package acrtoken
