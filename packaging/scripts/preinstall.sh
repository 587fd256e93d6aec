#!/bin/sh
# The ocicred group owns /etc/ocicred and the daemon's socket; it must exist
# before the files are unpacked.
set -e
if ! getent group ocicred >/dev/null 2>&1; then
  groupadd --system ocicred
fi
