// Package systemd holds the unit file that the packages install and that
// `ocicred service install` writes (ocicred.service), embedded here so
// both use the same bytes.
package systemd

import _ "embed"

// Unit is systemd/ocicred.service.
//
//go:embed ocicred.service
var Unit string
