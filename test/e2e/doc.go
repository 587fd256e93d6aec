// Package e2e is the end-to-end suite: the real ocicred binaries, a real
// registry that demands Basic authentication, and the real clients (crane,
// skopeo, docker, podman, oras, helm, regctl, containerd's ctr and crictl,
// and the kubelet plugin protocol) pulling through ocicred, with and without
// the daemon. It is skipped under `go test -short`; CI (CI=true) runs it and fails,
// rather than skips, when a tool is missing (.ci/install-tools installs them).
//
// The harness is plain Go:
//
//   - tools.go: Need, the first call of every test, decides before any work
//     whether the tools it will use are there (skip, or fail under
//     CI=true); helpers find them with tool, which fails, never skips.
//   - binaries.go: BuildBinaries builds bin/ocicred and the helper once per run
//     (or takes them from OCICRED_E2E_BIN).
//   - registry.go: StartRegistry runs the distribution registry with htpasswd.
//   - env.go: Env is one scenario's sandbox (HOME, DOCKER_CONFIG,
//     XDG_RUNTIME_DIR, the ocicred config and socket) and runs commands in it.
//   - daemon.go: StartDaemon runs `ocicred daemon` and keeps its log.
//   - files.go: the ocicred config, docker config / auth.json and skopeo
//     policy writers.
//   - clients.go: crane and skopeo pulls, and how to tell a 401 failure.
//   - ecr.go: StartECR, an ECR stand-in (awsfake, its registry front served
//     here, an open distribution registry behind it), the ECR config writer,
//     and `ocicred status --json` and helper answers read back.
//   - containerd.go: a private containerd 1.6 with CRI config_path, ctr and
//     crictl pulls, hosts.toml readers.
//   - dockerd.go, podman.go, oras.go, helm.go, regctl.go: each client, and
//     setupcmd.go: `ocicred setup CLIENT`.
//
// The tests start in scenario_test.go (through the daemon), then
// daemonless_test.go (the helper's fallback) and controls_test.go (runs that
// must fail, and the harness's own positive control); ecr_test.go does the
// same for ECR: one AWS call serves every pull, the refresh, the expired
// token, AWS refusing, the token cache and unprotected registries;
// containerd_test.go pulls through the daemon's hosts.toml before and after a
// token rotation; clients_*_test.go take each client through the steps of
// clients_flow_test.go (refused before `ocicred setup`, refused with a wrong
// password, pulling with the right one). Subpackages: localreg
// (the registries and the test image, shared with the demo) and
// subproc (child processes).
package e2e
