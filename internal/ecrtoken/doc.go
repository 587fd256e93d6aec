// Package ecrtoken gets ECR authorization tokens from AWS with the real AWS
// SDK: one client per AWS identity and region (identity.go), credentials
// of type secret, sts or default (credentials.go), and the
// GetAuthorizationToken calls of ECR and ECR Public (fetcher.go). The
// daemon's refresh loops and the daemon-less fallback both use a Fetcher.
// Read fetcher.go first.
package ecrtoken
