// Package cli is the ocicred command line: one file per command, all
// wired in root.go. cmd/ocicred only calls Main.
package cli
