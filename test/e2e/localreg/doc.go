// Package localreg gives the end-to-end tests and the demo a real OCI registry
// on 127.0.0.1 that demands Basic authentication, and a small reproducible
// test image to push to it.
//
// Two registries: StartDistribution runs the distribution registry
// (`docker-registry`, the one users run) with htpasswd auth; StartInProcess
// serves go-containerregistry's pkg/registry behind a Basic-auth gate, for
// machines that have only Go. Both answer an unauthenticated /v2/ with 401 and
// a Basic challenge; Distribution.NoAuth runs the distribution registry open
// instead, as the upstream of a gate such as awsfake's ECR registry front.
//
// Pushing and pulling is go-containerregistry's remote package: Tag names a
// repository on the registry (plain HTTP), TestImage builds the image and
// PushTestImage writes it with remote.Write, so that neither the tests nor the
// demo need a client tool to set the stage. Read registry.go first.
package localreg
