#!/bin/bash
# build-rootfs.sh OUT.tar: a Debian bookworm rootfs whose init is systemd,
# packed as a tarball, for the systemd suite (packaging/systemd_test.go).
# debootstrap from the Debian mirror this machine's apt already uses; about
# a minute on 2 cores, so the suite caches the tarball.
# Adapted from the team's recipe for a real systemd on machines whose PID 1
# is not systemd.
set -euo pipefail
OUT=${1:?usage: build-rootfs.sh OUT.tar}
# the Debian mirror apt uses (first "URIs:" of a .sources file, or a "deb" line)
apt_mirror() {
  { grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
    grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}'; } |
    grep -vE 'security|updates' | grep -m1 -E '/debian/?$'
}
MIRROR=${MIRROR:-$(apt_mirror || true)}  # grep fails on a missing list file
[ -n "$MIRROR" ] || { echo "no Debian mirror found in /etc/apt; set MIRROR" >&2; exit 1; }
TMP=$(mktemp -d "$(dirname "$OUT")/rootfs-build.XXXX")
trap 'rm -rf "$TMP" "$TMP.log"' EXIT
chmod 755 "$TMP"   # mktemp -d gives 0700; a 0700 "/" breaks dbus and the boot hangs
# procps: /bin/kill for ExecReload; passwd and util-linux (minbase) give
# useradd and runuser for the users the suite creates.
nice -n 10 debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,dbus,procps \
    bookworm "$TMP" "$MIRROR" >"$TMP.log" 2>&1 || { tail -20 "$TMP.log" >&2; exit 1; }
chroot "$TMP" apt-get clean
rm -rf "$TMP"/var/lib/apt/lists/* "$TMP"/var/log/journal/*
: > "$TMP/etc/machine-id"          # each boot gets its own id
echo sdbox > "$TMP/etc/hostname"
# no console getty in a container
ln -sf /dev/null "$TMP/etc/systemd/system/console-getty.service"
ln -sf /dev/null "$TMP/etc/systemd/system/getty.target"
tar --numeric-owner --xattrs --acls -C "$TMP" -cf "$OUT.part" .
mv "$OUT.part" "$OUT"
