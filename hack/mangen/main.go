// Command mangen writes the ocicred man pages (section 1) from the CLI's
// own help: `go run ./hack/mangen DIR` (make man).
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra/doc"

	"github.com/ocicred/ocicred/internal/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mangen DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "mangen:", err)
		os.Exit(1)
	}
	header := &doc.GenManHeader{Title: "OCICRED", Section: "1", Source: "ocicred"}
	if err := doc.GenManTree(cli.Command(), header, dir); err != nil {
		fmt.Fprintln(os.Stderr, "mangen:", err)
		os.Exit(1)
	}
}
