// Package containerdhosts is containerd's hosts.toml format as ocicred
// writes it: which registries get a file and what it holds (desired.go,
// pure), how a file is rendered and marked as ocicred's (format.go, pure),
// which folder containerd looks in for a host (folder.go, containerd's
// host_port_ rule), writing and removing the files below the hosts folder
// without following links (write.go), and whether containerd's CRI plugin
// reads that folder at all (criconfig.go, the config_path probe).
//
// Read format.go first, then desired.go. The daemon's containerd sink
// (daemon/containerd.go) is the reconciler around Desired and Write;
// `ocicred setup containerd` uses CheckCRIConfig. A test parses every
// golden file in testdata/ with containerd's own hosts parser.
package containerdhosts
