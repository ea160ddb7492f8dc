#!/usr/bin/env bash
# Builds the Dockerfile without Docker and without a registry: buildah (Debian's), from a local
# stand-in for node:22-bookworm-slim (a Debian bookworm minbase from mmdebstrap, plus the Node.js 22
# binary of .ci/node22.sh and npm at the base image's paths). The LAST stdout line is the path of an
# oci-archive, which test/image/image.test.ts takes as JSM_SSO_IMAGE:
#
#   JSM_SSO_IMAGE=$(bash .ci/dockerfile-build.sh | tail -n1) npx tsx test/run.ts --spec test/image/image.test.ts
#
# Not in .ci/run (ADR 0161): it takes minutes (a full npm ci inside the build). Run as root.
# Environment: JSM_SSO_DOCKERFILE_WORK  work folder (default build/dockerfile; removed first)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${JSM_SSO_DOCKERFILE_WORK:-$PWD/build/dockerfile}
log() { printf '[dockerfile %4ss] %s\n' "$SECONDS" "$*" >&2; }

need=()
command -v buildah >/dev/null || need+=(buildah)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
NODE_BIN_DIR=$(bash .ci/node22.sh | tail -n 1)
NPM_DIR=$(dirname "$(dirname "$(readlink -f "$(PATH="$NODE_BIN_DIR:$PATH" command -v npm)")")")

rm -rf "$WORK" && mkdir -p "$WORK"
# A storage of its own, on vfs (no overlay mounts needed), removed with the work folder.
B=(buildah --root "$WORK/storage" --runroot "$WORK/run" --storage-driver vfs)
log "stand-in for node:22-bookworm-slim: mmdebstrap minbase, Node $("$NODE_BIN_DIR/node" --version), npm"
mmdebstrap --quiet --variant=minbase --include=libstdc++6,netbase bookworm "$WORK/base.tar" >&2
ctr=$("${B[@]}" from scratch)
mnt=$("${B[@]}" mount "$ctr")
tar -xf "$WORK/base.tar" -C "$mnt"
install -D -m 0755 "$NODE_BIN_DIR/node" "$mnt/usr/local/bin/node"
mkdir -p "$mnt/usr/local/lib/node_modules"
cp -a "$NPM_DIR" "$mnt/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$mnt/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$mnt/usr/local/bin/npx"
# This machine's CA bundle, for a network whose TLS is intercepted (npm ci inside the build): the
# stand-in's, not the Dockerfile's.
install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$mnt/etc/ssl/certs/ca-certificates.crt"
"${B[@]}" umount "$ctr" >/dev/null
"${B[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt "$ctr"
"${B[@]}" commit --quiet "$ctr" docker.io/library/node:22-bookworm-slim >/dev/null

log "buildah bud (the Dockerfile as written; the base from the stand-in, nothing pulled)"
REVISION=$(git rev-parse HEAD)
CREATED=$(date -u -d "@$(git log -1 --format=%ct)" +%Y-%m-%dT%H:%M:%SZ)
VERSION=$(node -p "require('./package.json').version" 2>/dev/null || "$NODE_BIN_DIR/node" -p "require('./package.json').version")
"${B[@]}" bud --pull=never --isolation=chroot --layers=false --build-arg VERSION="$VERSION" \
  --build-arg REVISION="$REVISION" --build-arg CREATED="$CREATED" -t jsm-sso:dockerfile . >&2
ARCHIVE=$WORK/jsm-sso-dockerfile.oci.tar
"${B[@]}" push --quiet jsm-sso:dockerfile "oci-archive:$ARCHIVE:$VERSION" >&2
log "done: $ARCHIVE"
echo "$ARCHIVE"
