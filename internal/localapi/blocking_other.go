//go:build !linux

package localapi

import (
	"net"
	"time"
)

// dialBlocking is net's dial but on Linux, where the blocking path was
// written and measured (blocking_linux.go).
func dialBlocking(socket string, timeout time.Duration) (conn, error) {
	return net.DialTimeout("unix", socket, timeout)
}
