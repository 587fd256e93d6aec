package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/helper"
	"github.com/ocicred/ocicred/internal/defaults"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2 // bad usage or bad config
)

// exitError carries an exit code; its message, if any, is already printed
// or is printed by Main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

func exitWith(code int, err error) error { return &exitError{code: code, err: err} }

// globals are the flags every command takes and the program's streams.
// Cobra fills the flags while parsing; commands then get a copy, read only
// (value receivers), and keep their own flags to themselves.
type globals struct {
	configPath string
	socket     string
	logLevel   string
	logFormat  string
	stdin      io.Reader
	stdout     io.Writer
	stderr     io.Writer
}

// Main runs the command line and returns the exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	g := &globals{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRoot(g)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "ocicred:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "ocicred:", err)
	return ExitFailure
}

// Command is the command tree, for generating documentation (man pages).
func Command() *cobra.Command {
	root := newRoot(&globals{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr})
	root.DisableAutoGenTag = true
	return root
}

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "ocicred",
		Short: "Keep OCI registry credentials fresh for every client on this node",
		Long: `ocicred keeps OCI registry credentials (Basic and AWS ECR) fresh on a node
and hands them to docker, containerd, the kubelet, podman, helm, oras and crane.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.configPath, "config", helper.ConfigPath(), "config file (env OCICRED_CONFIG)")
	pf.StringVar(&g.socket, "socket", os.Getenv(defaults.EnvSocket), "daemon socket (env OCICRED_SOCKET; default: the config's socket, else "+config.DefaultSocket+")")
	pf.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	pf.StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	root.AddCommand(
		newDaemonCmd(g),
		newControllerCmd(g),
		newGetCmd(g),
		newListCmd(g),
		newStatusCmd(g),
		newConfigCmd(g),
		newCheckCmd(g),
		newPolicyCmd(g),
		newSetupCmd(g),
		newKubeletProviderCmd(g),
		newServiceCmd(g),
		newVersionCmd(g),
	)
	refuseUnknownSubcommands(root)
	typeUsageErrors(root)
	return root
}

// typeUsageErrors makes cobra's flag and argument errors usage errors
// (exit 2) by type, at their source, instead of recognising cobra's
// message texts: the flag error function (inherited by every command)
// and each command's argument check.
func typeUsageErrors(root *cobra.Command) {
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return exitWith(ExitUsage, err) })
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if check := c.Args; check != nil {
			c.Args = func(cmd *cobra.Command, args []string) error {
				if err := check(cmd, args); err != nil {
					return exitWith(ExitUsage, err)
				}
				return nil
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// refuseUnknownSubcommands makes every command that only groups others
// (setup, config) fail with exit 2 on an unknown or missing subcommand;
// cobra would print the help and exit 0, so a script calling
// `ocicred setup nerdctl` would think it worked (spec: unknown commands
// and subcommands exit 2).
func refuseUnknownSubcommands(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		refuseUnknownSubcommands(c)
	}
	if cmd.Runnable() || !cmd.HasSubCommands() {
		return
	}
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if len(args) == 0 && !c.HasParent() { // plain `ocicred`: the help
			return c.Help()
		}
		var names []string
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				names = append(names, sub.Name())
			}
		}
		if len(args) == 0 {
			return exitWith(ExitUsage, fmt.Errorf("%s needs a subcommand: %s", c.CommandPath(), strings.Join(names, ", ")))
		}
		return exitWith(ExitUsage, fmt.Errorf("unknown command %q for %q: write one of %s", args[0], c.CommandPath(), strings.Join(names, ", ")))
	}
}

// logger builds the logger the flags ask for, on stderr.
func (g globals) logger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, exitWith(ExitUsage, fmt.Errorf("--log-level %q: write debug, info, warn or error", g.logLevel))
	}
	opts := &slog.HandlerOptions{Level: level}
	switch g.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(g.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(g.stderr, opts)), nil
	}
	return nil, exitWith(ExitUsage, fmt.Errorf("--log-format %q: write text or json", g.logFormat))
}

// socketPath is --socket, else the socket of the config file, else the
// default. A config that does not validate (an edit the daemon refused)
// still names the socket the daemon listens on, so its socket: line is
// read leniently then.
func (g globals) socketPath() string {
	if g.socket != "" {
		return g.socket
	}
	if cfg, err := config.Read(g.configPath); err == nil {
		if cfg.Socket != "" {
			return cfg.Socket
		}
		return config.DefaultSocket
	}
	if s := lenientSocket(g.configPath); s != "" {
		return s
	}
	return config.DefaultSocket
}

// lenientSocket is the top-level socket: value of the file at path,
// whatever else the file holds, or "" when it cannot be read.
func lenientSocket(path string) string {
	data, err := os.ReadFile(path)
	if err != nil || len(data) > 4<<20 { // config's own size cap
		return ""
	}
	var doc struct {
		Socket string `yaml:"socket"`
	}
	_ = yaml.Unmarshal(data, &doc) // a partial decode still fills Socket
	return doc.Socket
}
