// Command ocicred is the ocicred CLI and daemon. See `ocicred --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ocicred/ocicred/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
