package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/google/renameio/v2"
	"github.com/spf13/cobra"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/containerdhosts"
)

func newSetupContainerdCmd(g *globals) *cobra.Command {
	var hostsDir, ctdConfig string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "containerd",
		Short: "Have the daemon keep containerd's hosts.toml files (CRI, ctr, crictl, the pause image)",
		Long: `Set containerd.hostsDir in the ocicred config, so that the daemon keeps
<hosts-dir>/<host>/hosts.toml with an Authorization header for every registry
with credentials (containerd never calls a credential helper). The rest of
the config file is kept as it is. Then check containerd's own config: CRI
pulls read hosts.toml files only from its registry config_path.`,
		Example: `  ocicred setup containerd
  ocicred setup containerd --dry-run
  ocicred setup containerd --hosts-dir /etc/containerd/certs.d --containerd-config /etc/containerd/config.toml`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return g.setupContainerd(hostsDir, ctdConfig, dryRun)
		},
	}
	cmd.Flags().StringVar(&hostsDir, "hosts-dir", containerdhosts.DefaultHostsDir, "the folder containerd reads hosts.toml files from")
	cmd.Flags().StringVar(&ctdConfig, "containerd-config", containerdhosts.DefaultCRIConfig, "containerd's config, to check its config_path")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the change without writing")
	return cmd
}

func (g globals) setupContainerd(hostsDir, ctdConfig string, dryRun bool) error {
	if !filepath.IsAbs(hostsDir) {
		return exitWith(ExitUsage, fmt.Errorf("--hosts-dir %q: write an absolute path, such as %s", hostsDir, containerdhosts.DefaultHostsDir))
	}
	hostsDir = filepath.Clean(hostsDir)
	path := g.configPath
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real // keep a symlink a symlink
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return exitWith(ExitUsage, fmt.Errorf("read the ocicred config: %w", err))
	}
	if _, err := config.Parse(data, g.configPath); err != nil {
		return exitWith(ExitUsage, fmt.Errorf("fix the config first:\n%w", err))
	}
	edit, err := config.SetHostsDir(data, hostsDir)
	if err != nil {
		return exitWith(ExitUsage, fmt.Errorf("%s: %w", g.configPath, err))
	}
	if edit.Changed {
		if _, err := config.Parse(edit.After, g.configPath); err != nil {
			return exitWith(ExitFailure, fmt.Errorf("the edited config would not be valid (a bug; nothing written):\n%w", err))
		}
	}
	was := "unset"
	if edit.Old != "" {
		was = "was " + edit.Old
	}
	switch {
	case !edit.Changed:
		fmt.Fprintf(g.stdout, "%s: containerd.hostsDir is already %s\n", g.configPath, hostsDir)
	case dryRun:
		fmt.Fprintf(g.stdout, "%s: would set containerd.hostsDir to %s (%s)\n", g.configPath, hostsDir, was)
		printLineDiff(g, g.configPath, data, edit)
	default:
		if err := writeKeepingOwner(path, edit.After); err != nil {
			return exitWith(ExitFailure, err)
		}
		fmt.Fprintf(g.stdout, "%s: set containerd.hostsDir to %s (%s)\n", g.configPath, hostsDir, was)
		fmt.Fprintf(g.stdout, "the daemon picks the change up by itself and keeps %s/<host>/hosts.toml for every registry with credentials; see `ocicred status`\n", hostsDir)
	}
	g.checkContainerdConfig(ctdConfig, hostsDir)
	return nil
}

// printLineDiff shows the lines an in-place edit changes. A re-encoded
// file is not shown: every line would differ, secrets included.
func printLineDiff(g globals, name string, before []byte, e config.HostsDirEdit) {
	if !e.InPlace {
		fmt.Fprintf(g.stdout, "%s would be encoded again: comments are kept, their alignment is not\n", name)
		return
	}
	a := strings.SplitAfter(string(before), "\n")
	b := strings.SplitAfter(string(e.After), "\n")
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	fmt.Fprintf(g.stdout, "--- %s\n+++ %s (after)\n", name, name)
	for _, l := range a[pre : len(a)-suf] {
		fmt.Fprintf(g.stdout, "-%s", withNewline(l))
	}
	for _, l := range b[pre : len(b)-suf] {
		fmt.Fprintf(g.stdout, "+%s", withNewline(l))
	}
}

func withNewline(s string) string {
	if strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}

// writeKeepingOwner replaces path atomically with data, keeping its mode,
// owner and group (the packaged config is root:ocicred 0640).
func writeKeepingOwner(path string, data []byte) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	f, err := renameio.NewPendingFile(path, renameio.WithTempDir(filepath.Dir(path)), renameio.WithStaticPermissions(fi.Mode().Perm()))
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() { _ = f.Cleanup() }()
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if err := f.Chown(int(st.Uid), int(st.Gid)); err != nil {
			return fmt.Errorf("write %s: keep its owner: %w", path, err)
		}
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// checkContainerdConfig tells whether containerd's CRI plugin reads
// hosts.toml files from hostsDir (on stdout), or what to change when it
// does not (a warning on stderr). It only prints: containerd's config is
// the administrator's.
func (g globals) checkContainerdConfig(path, hostsDir string) {
	c := containerdhosts.CheckCRIConfig(path, hostsDir)
	if c.OK {
		fmt.Fprintln(g.stdout, c.Msg)
		return
	}
	fmt.Fprintf(g.stderr, "warning: %s\n", c.Msg)
}
