#!/bin/sh
# After install or upgrade. deb: "configure" with the old version in $2 on an
# upgrade; rpm: $1 = 1 on install, 2 on upgrade.
set -e
chgrp ocicred /etc/ocicred /etc/ocicred/config.yaml 2>/dev/null || true
upgrade=
case "$1" in
  configure) [ -n "${2:-}" ] && upgrade=1 ;;
  [2-9]) upgrade=1 ;;
esac
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
  if [ -n "$upgrade" ]; then
    # The new binaries take over; a stopped service stays stopped.
    systemctl try-restart ocicred.service || true
  else
    systemctl enable ocicred.service >/dev/null 2>&1 || true
    echo "ocicred: edit /etc/ocicred/config.yaml, then: systemctl start ocicred"
  fi
fi
