#!/bin/sh
# After removal: reload systemd. On purge (deb) or erase (rpm): remove what
# ocicred made at run time, the config folder and the group.
set -e
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
fi
case "$1" in
  purge|0)
    rm -rf /var/lib/ocicred /run/ocicred
    if [ "$1" = purge ]; then rm -rf /etc/ocicred; fi
    if getent group ocicred >/dev/null 2>&1; then groupdel ocicred || true; fi
    ;;
esac
