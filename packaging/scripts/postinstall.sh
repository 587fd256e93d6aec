#!/bin/sh
set -e
chgrp ocicred /etc/ocicred /etc/ocicred/config.yaml 2>/dev/null || true
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
  systemctl enable ocicred.service >/dev/null 2>&1 || true
  echo "ocicred: edit /etc/ocicred/config.yaml, then: systemctl start ocicred"
fi
