#!/bin/bash
# sdbox.sh: boot a Debian rootfs with a real systemd as PID 1 under
# systemd-nspawn, on a host whose PID 1 is not systemd (no machined, no
# dbus), for the systemd suite (packaging/systemd_test.go).
#   sdbox.sh start NAME ROOTFS [nspawn flags]  boot, wait for is-system-running
#   sdbox.sh exec  NAME CMD...                 run CMD inside (exit code passes through)
#   sdbox.sh stop  NAME                        clean poweroff, wait, remove cgroups
# The container shares the host's network (no --private-network) so that a
# stand-in server the test runs on 127.0.0.1 is reachable from the service.
# Pitfalls this handles: nspawn needs --register=no and --keep-unit without
# machined; it runs in a private cgroup so the payload's cgroups stay under
# it; SIGKILL on nspawn would leave the container's systemd running, so stop
# sends SIGTERM and kills PID 1 only if the halt hangs.
set -euo pipefail
STATE=${SDBOX_STATE:-/run/sdbox}
mkdir -p "$STATE"
cmd=${1:?usage: sdbox.sh start|exec|stop NAME ...}; name=${2:?NAME}; shift 2
CG_U=/sys/fs/cgroup/unified/sdbox-$name
CG_S=/sys/fs/cgroup/systemd/sdbox-$name

leader() { cat "$STATE/$name.leader"; }

case "$cmd" in
start)
  root=$1; shift
  mkdir -p "$CG_U" "$CG_S"
  (
    echo $BASHPID > "$CG_U/cgroup.procs"
    echo $BASHPID > "$CG_S/cgroup.procs"
    exec systemd-nspawn --quiet -D "$root" -M "$name" --boot \
         --register=no --keep-unit --console=passive \
         "$@" </dev/null >"$STATE/$name.console" 2>&1
  ) &
  nspid=$!
  echo $nspid > "$STATE/$name.nspawn"
  # The container's PID 1 is the child of nspawn that runs systemd: nspawn
  # forks short-lived helpers first, and taking one of those would leave
  # us with a process that is gone a moment later.
  l=
  for _ in $(seq 1 100); do
    for c in $(pgrep -P $nspid 2>/dev/null || true); do
      if [ "$(cat /proc/$c/comm 2>/dev/null)" = systemd ]; then l=$c; break; fi
    done
    [ -n "$l" ] && break; sleep 0.1
  done
  [ -n "$l" ] || { echo "nspawn did not start:" >&2; cat "$STATE/$name.console" >&2; exit 1; }
  echo $l > "$STATE/$name.leader"
  st=
  for _ in $(seq 1 300); do
    st=$(nsenter -t $l -a /usr/bin/systemctl is-system-running 2>/dev/null || true)
    case "$st" in running|degraded) break;; esac
    sleep 0.1
  done
  echo "leader=$l state=$st"
  case "$st" in running|degraded) ;; *)
    nsenter -t $l -a /usr/bin/systemctl list-jobs --no-pager >&2 || true; exit 1;; esac
  ;;
exec)
  exec nsenter -t "$(leader)" -a /usr/bin/env -i \
       PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
       TERM=dumb LANG=C.UTF-8 HOME=/root SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"
  ;;
stop)
  [ -f "$STATE/$name.nspawn" ] || exit 0
  nspid=$(cat "$STATE/$name.nspawn"); l=$(cat "$STATE/$name.leader" 2>/dev/null || echo 0)
  kill -TERM "$nspid" 2>/dev/null || true     # nspawn -> SIGRTMIN+3 to PID 1 -> clean halt
  for _ in $(seq 1 ${STOP_TIMEOUT:-100}); do kill -0 "$nspid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$nspid" 2>/dev/null; then
    echo "sdbox: clean halt timed out, killing container PID 1 ($l)" >&2
    [ "$l" != 0 ] && kill -KILL "$l" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$nspid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$nspid" 2>/dev/null || true
  fi
  [ "$l" != 0 ] && for _ in $(seq 1 50); do kill -0 "$l" 2>/dev/null || break; sleep 0.1; done
  for d in $(find "$CG_U" "$CG_S" -depth -type d 2>/dev/null); do rmdir "$d" 2>/dev/null || true; done
  rm -f "$STATE/$name".{nspawn,leader,console}
  ;;
*) echo "usage: sdbox.sh start|exec|stop NAME ..." >&2; exit 2;;
esac
