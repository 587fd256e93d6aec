package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/kardianos/service"
	"github.com/spf13/cobra"

	"github.com/ocicred/ocicred/systemd"
)

// installedBinary is where the unit's ExecStart expects ocicred.
const installedBinary = "/usr/bin/ocicred"

// serviceConfig is the kardianos/service config: the unit it installs is
// systemd/ocicred.service itself, byte for byte (it has no template
// placeholders, so kardianos' renderer leaves it as it is).
func serviceConfig() *service.Config {
	return &service.Config{
		Name:        "ocicred",
		DisplayName: "ocicred",
		Description: "ocicred: OCI registry credentials for this node",
		Executable:  installedBinary,
		Arguments:   []string{"daemon"},
		Option:      service.KeyValue{"SystemdScript": systemd.Unit, "ReloadSignal": "HUP"},
	}
}

// serviceGroup is the group the unit's SupplementaryGroups= names and the
// packaged config's socketGroup; systemd refuses to start the unit
// (216/GROUP) when it does not exist.
const serviceGroup = "ocicred"

// ensureGroup creates the system group name with groupadd when it does
// not exist, as the packages' preinstall script does.
func ensureGroup(g globals, name string) error {
	if _, err := user.LookupGroup(name); err == nil {
		return nil
	}
	out, err := exec.Command("groupadd", "--system", name).CombinedOutput()
	if err != nil {
		return fmt.Errorf("create the %s group that the unit runs with: groupadd --system %s: %v: %s; create it by hand, then install again", name, name, err, strings.TrimSpace(string(out)))
	}
	fmt.Fprintf(g.stdout, "created the system group %s\n", name)
	return nil
}

// noopProgram satisfies service.Interface; ocicred never runs the daemon
// through kardianos (systemd runs `ocicred daemon`).
type noopProgram struct{}

func (noopProgram) Start(service.Service) error { return nil }
func (noopProgram) Stop(service.Service) error  { return nil }

// errNoSystemd is the answer on machines whose init is not systemd.
var errNoSystemd = errors.New("systemd is not running on this machine; ocicred's service commands drive systemd only: copy systemd/ocicred.service to /etc/systemd/system/ on a systemd host, or run `ocicred daemon` under your init")

// systemdDir exists when systemd is PID 1 (sd_booted); a test points it
// elsewhere to run the no-systemd answer on a machine that has systemd.
var systemdDir = "/run/systemd/system"

// systemdRunning reports whether systemd is PID 1, as sd_booted does.
func systemdRunning() bool {
	fi, err := os.Stat(systemdDir)
	return err == nil && fi.IsDir()
}

func newServiceCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "service install|uninstall|start|stop|restart|status",
		Short: "Manage the ocicred systemd service",
		Long: `Manage the ocicred systemd service with kardianos/service. install writes
systemd/ocicred.service (the unit the packages ship) to
/etc/systemd/system/ocicred.service and enables it; it expects ocicred at
` + installedBinary + `.`,
		Example: `  sudo ocicred service install && sudo ocicred service start
  ocicred service status`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"install", "uninstall", "start", "stop", "restart", "status"},
		RunE: func(_ *cobra.Command, args []string) error {
			return g.service(args[0])
		},
	}
	return cmd
}

func (g globals) service(action string) error {
	switch action {
	case "install", "uninstall", "start", "stop", "restart", "status":
	default:
		return exitWith(ExitUsage, fmt.Errorf("unknown action %q: write install, uninstall, start, stop, restart or status", action))
	}
	if !systemdRunning() {
		return exitWith(ExitFailure, errNoSystemd)
	}
	if action == "install" {
		if err := ensureGroup(g, serviceGroup); err != nil {
			return exitWith(ExitFailure, err)
		}
		if self, err := os.Executable(); err == nil {
			if real, _ := filepath.EvalSymlinks(self); real != installedBinary {
				fmt.Fprintf(g.stderr, "warning: the unit runs %s, and this is %s; install ocicred there first\n", installedBinary, self)
			}
		}
	}
	svc, err := service.New(noopProgram{}, serviceConfig())
	if err != nil {
		return exitWith(ExitFailure, err)
	}
	if action == "status" {
		st, err := svc.Status()
		if err != nil {
			return exitWith(ExitFailure, fmt.Errorf("service status: %w", err))
		}
		fmt.Fprintln(g.stdout, statusWord(st))
		if st != service.StatusRunning {
			return exitWith(ExitFailure, nil)
		}
		return nil
	}
	if err := service.Control(svc, action); err != nil {
		return exitWith(ExitFailure, fmt.Errorf("service %s: %w", action, err))
	}
	fmt.Fprintf(g.stdout, "ocicred service: %s done\n", action)
	return nil
}

func statusWord(s service.Status) string {
	switch s {
	case service.StatusRunning:
		return "running"
	case service.StatusStopped:
		return "stopped"
	}
	return "unknown"
}
