// Command demo shows ocicred end to end on one machine, in under a minute:
// a local registry that demands a password, the ocicred daemon managing it,
// and an image pulled through docker-credential-ocicred by a client that
// never sees the password in its own config.
//
//	make demo        # = make build && go run ./hack/demo --bin bin
//
// It needs only Go: it runs the distribution registry (`docker-registry`) when
// it is installed (and --in-process is not given), else go-containerregistry's
// registry in process behind a Basic-auth gate; it pulls with crane when it is
// installed, else in process with go-containerregistry's remote package and
// DefaultKeychain, which runs the helper from credHelpers as docker does. Everything lives in
// one temp folder, removed at the end, also on Ctrl-C. The password is never
// printed.
//
// Read main.go first, then steps.go.
package main
