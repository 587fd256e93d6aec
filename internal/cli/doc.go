// Package cli is the ocicred command line: one file per command, all
// wired in root.go; cmd/ocicred only calls Main. A command parses its
// flags, calls the package that does the work and prints: the answer for
// a host is internal/resolve's, containerd's files are
// internal/containerdhosts', the kubelet's internal/kubeletplugin's, the
// clients' auth files internal/clientcfg's, ocicred's own config's edits
// config's. Commands read the global flags from a copy (globals, value
// receivers) and keep their own flags to themselves.
//
// Read root.go first, then get.go.
package cli
