// Package subproc runs the child processes of the end-to-end tests and of the
// demo: a registry, the ocicred daemon. A child's output is kept in memory for
// the failure report, it is stopped gracefully (SIGTERM, then SIGKILL after a
// timeout), and it dies with its parent, so a killed test run leaves nothing
// behind.
//
// Read proc.go first.
package subproc
