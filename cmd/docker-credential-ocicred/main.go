// Command docker-credential-ocicred is the Docker credential helper of
// ocicred. Clients run it with get, list, store or erase.
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/ocicred/ocicred/helper"
	"github.com/ocicred/ocicred/internal/buildinfo"
	"github.com/ocicred/ocicred/internal/defaults"
)

// maxInput bounds stdin: a server address or one credentials object.
const maxInput = 64 << 10

func main() {
	credentials.Name = "docker-credential-ocicred"
	credentials.Package = "github.com/ocicred/ocicred"
	credentials.Version = buildinfo.Version
	if len(os.Args) != 2 {
		fmt.Fprintf(os.Stdout, "Usage: %s <store|get|erase|list|version>\n", credentials.Name)
		os.Exit(1)
	}
	action := os.Args[1]
	switch action {
	case "--version", "-v":
		action = credentials.ActionVersion
	case "--help", "-h":
		fmt.Fprintf(os.Stdout, "Usage: %s <store|get|erase|list|version>\n", credentials.Name)
		return
	}
	var in []byte
	if action == credentials.ActionGet || action == credentials.ActionStore || action == credentials.ActionErase {
		var err error
		if in, err = io.ReadAll(io.LimitReader(os.Stdin, maxInput+1)); err != nil {
			fail(fmt.Errorf("read stdin: %w", err))
		}
		if len(in) > maxInput {
			fail(fmt.Errorf("input is larger than 64 KiB; send one server address"))
		}
	}
	opts := helper.Options{ConfigPath: helper.ConfigPath(), Socket: helper.Socket(), Warn: os.Stderr}
	if os.Getenv(defaults.EnvDebug) != "" {
		opts.Debug = os.Stderr
	}
	if err := credentials.HandleCommand(helper.New(opts), action, bytes.NewReader(in), os.Stdout); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stdout, err)
	os.Exit(1)
}
