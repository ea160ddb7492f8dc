#!/usr/bin/env bash
# The Dockerfile's rootfs: the files of the Debian packages .ci/image.sh puts in the CI image (its
# DEB_PACKAGES, and what they depend on), copied from the dpkg of the Debian bookworm this runs on
# (node:22-bookworm-slim in the Dockerfile), with their dpkg status for image scanners, the user
# 10001 and a /tmp. No shell, no package manager: nothing else. test/image/dockerfile.test.ts runs it
# on the CI machine (Debian bookworm) and compares the result with the CI image's Debian layer.
# Usage: bash .ci/image-rootfs.sh DEST PACKAGE[,PACKAGE...]
set -euo pipefail
DEST=$1
UID_GID=10001

# The packages and, recursively, their Depends and Pre-Depends (first alternative, no version).
declare -A wanted=()
queue=(${2//,/ })
while [ ${#queue[@]} -gt 0 ]; do
  package=${queue[0]}
  queue=("${queue[@]:1}")
  [ -n "${wanted[$package]:-}" ] && continue
  wanted[$package]=1
  depends=$(dpkg-query -W -f='${Pre-Depends}, ${Depends}' "$package")
  for dependency in $(printf '%s' "$depends" | tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*)//' -e 's/:any//' | tr -d ' '); do
    queue+=("$dependency")
  done
done
packages=$(printf '%s\n' "${!wanted[@]}" | sort)

mkdir -p "$DEST/var/lib/dpkg" "$DEST/etc"
for package in $packages; do
  # Files and symbolic links; directories are made for them as the extract needs them. /lib and
  # /lib64 are links to /usr on a merged-/usr system: not copied, so the libraries land in real
  # folders, as mmdebstrap's extract lays them out. A path dpkg lists but the system lacks
  # (excluded from a slim image) is skipped.
  dpkg-query -L "$package" | while IFS= read -r path; do
    case $path in /bin | /sbin | /lib | /lib32 | /lib64 | /libx32) continue ;; esac
    if [ -f "$path" ] || [ -L "$path" ] || { [ -L "$path" ] && [ ! -d "$path" ]; }; then printf '%s\n' "${path#/}"; fi
  done
done | sort -u | tar --create --directory / --no-recursion --files-from - | tar --extract --directory "$DEST"
for package in $packages; do
  dpkg-query -s "$package"
  printf '\n'
done >"$DEST/var/lib/dpkg/status"
dpkg --print-architecture >"$DEST/var/lib/dpkg/arch"
rm -rf "$DEST/usr/share/man" "$DEST/usr/share/info"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\njsm-sso:x:%s:%s:jsm-sso:/nonexistent:/usr/sbin/nologin\n' \
  "$UID_GID" "$UID_GID" >"$DEST/etc/passwd"
printf 'root:x:0:\njsm-sso:x:%s:\n' "$UID_GID" >"$DEST/etc/group"
mkdir -p "$DEST/tmp" && chmod 1777 "$DEST/tmp"
