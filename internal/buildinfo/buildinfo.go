// Package buildinfo holds the version and commit stamped in at build time
// with -ldflags -X (see the Makefile).
package buildinfo

// Version and Commit are set by the linker; "dev" and "unknown" mean a plain
// `go build`.
var (
	Version = "dev"
	Commit  = "unknown"
)
