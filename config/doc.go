// Package config is ocicred's configuration file: its schema (config.go),
// a strict decoder that reports every error with file:line:column and the
// field path (decode.go, errors.go), the rules a valid file keeps
// (validate.go), how a client's server address finds its registry
// (endpoint.go), where secrets come from (secrets.go), loading from disk
// (load.go) and following the file as it changes (watch.go).
//
// Parse is pure: it reads no file and no environment. Load does the I/O.
// Read config.go first.
package config
