#!/bin/sh
# Stop the service before its files go (deb: "remove"; rpm: $1 = 0).
set -e
case "$1" in
  remove|purge|0)
    if [ -d /run/systemd/system ]; then
      systemctl disable --now ocicred.service >/dev/null 2>&1 || true
    fi
    ;;
esac
