#!/usr/bin/env bash
# `npm run image`: the jsm-sso OCI image, built without a Docker engine from the registries this
# machine reaches. The LAST stdout line is the path of an oci-archive (progress goes to stderr):
#
#   IMAGE=$(npm run --silent image | tail -n1)
#
# Layers, bottom up (each cached where it can be):
#   1. a minimal Debian rootfs from mmdebstrap (glibc, libstdc++, netbase; no shell, no package
#      manager), with a dpkg status file that scanners read, and the user 10001 (jsm-sso);
#   2. Node.js 22 LTS, the npm registry's node-linux-<arch> binary (.ci/node22.sh);
#   3. the production node_modules (`npm ci --omit=dev`, cached per package-lock.json);
#   4. the runtime build (tsconfig.build.json: cli, common, broker, portal, operator), the CRD, the
#      LICENSE and an SPDX SBOM of everything above (/app/sbom.spdx.json, also written beside the
#      archive). No test, bench, dev or script code and no dev dependency.
# The Dockerfile builds the same image for people with Docker: its build stage runs .ci/image-app.sh
# and its rootfs stage .ci/image-rootfs.sh (the same packages, from node:22-bookworm-slim's dpkg);
# test/image/dockerfile.test.ts compares the two.
#
# Environment:
#   JSM_SSO_IMAGE_CACHE  cache folder (default /var/cache/jsm-sso/image)
#   JSM_SSO_IMAGE_OUT    output folder (default build/image)
#   JSM_SSO_NODE_ARCH    x64 or arm64 (default: this machine's); Debian's arch follows it
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${JSM_SSO_IMAGE_CACHE:-/var/cache/jsm-sso/image}
OUT=${JSM_SSO_IMAGE_OUT:-$PWD/build/image}
SUITE=bookworm
# What the Node binary links against, and /etc/services for getaddrinfo; nothing else.
DEB_PACKAGES=libc6,libgcc-s1,libstdc++6,netbase
UID_GID=10001
# Bump when the rootfs recipe changes in a way that needs a rebuild.
ROOTFS_RECIPE=2

log() { printf '[image %4ss] %s\n' "$SECONDS" "$*" >&2; }

need=()
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v umoci >/dev/null || need+=(umoci)
command -v skopeo >/dev/null || need+=(skopeo)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]} from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

NODE_BIN_DIR=$(bash .ci/node22.sh | tail -n 1)
NODE_VERSION=$("$NODE_BIN_DIR/node" --version)
case "$(basename "$(dirname "$NODE_BIN_DIR")")" in
  *-linux-arm64) DEB_ARCH=arm64 OCI_ARCH=arm64 ;;
  *) DEB_ARCH=amd64 OCI_ARCH=amd64 ;;
esac
VERSION=$(node -p "require('./package.json').version")
LICENSE_ID=$(node -p "require('./package.json').license")
SOURCE_URL=$(node -p "require('./package.json').repository.url")
REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then REVISION="$REVISION-dirty"; fi
# Reproducible timestamps: the commit's time, not the build's.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
CREATED=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
mkdir -p "$CACHE" "$OUT"
# One build at a time per cache: the cached layers are filled in place.
exec 9>"$CACHE/.lock"
flock 9
WORK=$(mktemp -d "$CACHE/work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# ---- 1. rootfs --------------------------------------------------------------------------------
apt_sources=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true)
rootfs_key=$(printf '%s\n' "$ROOTFS_RECIPE" "$SUITE" "$DEB_ARCH" "$DEB_PACKAGES" "$apt_sources" | sha256sum | cut -c1-16)
ROOTFS=$CACHE/rootfs-$rootfs_key
if [ ! -d "$ROOTFS" ]; then
  log "rootfs: mmdebstrap $SUITE ($DEB_PACKAGES, $DEB_ARCH)"
  # extract: unpack the packages and their dependencies without running maintainer scripts (there
  # is no shell to run them). Their .deb control data becomes the dpkg status file, so that image
  # scanners see the packages; then the non-root user.
  printf '%s\n' "$apt_sources" | mmdebstrap --quiet --variant=extract --architectures="$DEB_ARCH" \
    --include="$DEB_PACKAGES" --skip=cleanup/apt/cache "$SUITE" "$WORK/rootfs" - >&2
  r=$WORK/rootfs
  for deb in "$r"/var/cache/apt/archives/*.deb; do
    dpkg-deb -f "$deb"
    printf 'Status: install ok installed\n\n'
  done >"$r/var/lib/dpkg/status"
  rm -rf "$r"/var/cache/apt "$r"/var/lib/apt "$r"/etc/apt "$r"/var/log/* "$r"/usr/share/man "$r"/usr/share/info
  # What mmdebstrap adds besides the packages: device nodes, and the build machine's hostname and
  # resolv.conf. The container runtime provides all three; the image must not carry the builder's.
  rm -rf "$r"/dev/* "$r"/etc/hostname "$r"/etc/resolv.conf "$r"/etc/fstab
  printf 'root:x:0:0:root:/root:/usr/sbin/nologin\njsm-sso:x:%s:%s:jsm-sso:/nonexistent:/usr/sbin/nologin\n' \
    "$UID_GID" "$UID_GID" >"$r/etc/passwd"
  printf 'root:x:0:\njsm-sso:x:%s:\n' "$UID_GID" >"$r/etc/group"
  mkdir -p "$r/tmp" && chmod 1777 "$r/tmp"
  mv "$WORK/rootfs" "$ROOTFS"
else
  log "rootfs: cached ($ROOTFS)"
fi

# ---- 3. production node_modules ---------------------------------------------------------------
modules_key=$(cat package-lock.json | sha256sum | cut -c1-16)
INSTALL=$CACHE/install-$modules_key
MODULES=$INSTALL/node_modules
if [ ! -d "$MODULES" ]; then
  log "node_modules: npm ci --omit=dev"
  mkdir -p "$WORK/install"
  cp package.json package-lock.json "$WORK/install/"
  # No install scripts: no production dependency needs one, and none runs at build time.
  (cd "$WORK/install" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  rm -rf "$INSTALL"
  mv "$WORK/install" "$INSTALL"
else
  log "node_modules: cached ($MODULES)"
fi

# ---- 4. the application -----------------------------------------------------------------------
log "app: runtime build (npm run build: incremental, a no-op after .ci/run's build)"
APP=$WORK/layers/app/app
JSM_SSO_REVISION=$REVISION npm run --silent build >&2
# The same files the Dockerfile puts in /app (.ci/image-app.sh).
bash .ci/image-app.sh "$APP"

log "sbom: SPDX from the production packages, the Debian packages and Node"
(cd "$INSTALL" && npm sbom --omit=dev --package-lock-only --sbom-format=spdx --sbom-type=application) >"$WORK/npm.spdx.json"
node --import tsx scripts/image-sbom.ts --npm "$WORK/npm.spdx.json" --dpkg-status "$ROOTFS/var/lib/dpkg/status" \
  --deb-arch "$DEB_ARCH" --node "$NODE_VERSION" --name "jsm-sso-image" --version "$VERSION" \
  --created "$CREATED" >"$APP/sbom.spdx.json"

# ---- assemble ---------------------------------------------------------------------------------
# Each layer is a GNU tar of a folder (sorted, numeric owners, the commit's time: reproducible)
# added with `umoci raw add-layer`. The three lower layers change rarely and their compression is
# the slow part, so they are kept as a cached base image, keyed by what went into them.
TAG=$VERSION
add_layer() { # image folder comment
  tar --create --file "$WORK/layer.tar" --directory "$2" --sort=name --numeric-owner \
    --mtime="@$SOURCE_DATE_EPOCH" --pax-option=delete=atime,delete=ctime .
  umoci raw add-layer --image "$1" --history.created="$CREATED" --history.created_by="npm run image" \
    --history.comment="$3" "$WORK/layer.tar"
  rm -f "$WORK/layer.tar"
}
base_key=$(printf '%s\n' "$rootfs_key" "$NODE_VERSION" "$DEB_ARCH" "$modules_key" | sha256sum | cut -c1-16)
BASE=$CACHE/base-$base_key
if [ ! -d "$BASE" ]; then
  log "oci: base layers (Debian, Node, node_modules)"
  umoci init --layout "$WORK/base"
  umoci new --image "$WORK/base:base"
  add_layer "$WORK/base:base" "$ROOTFS" "Debian $SUITE: $DEB_PACKAGES"
  install -D -m 0755 "$NODE_BIN_DIR/node" "$WORK/layers/node/usr/local/bin/node"
  add_layer "$WORK/base:base" "$WORK/layers/node" "Node.js $NODE_VERSION"
  mkdir -p "$WORK/layers/modules/app"
  cp -al "$MODULES" "$WORK/layers/modules/app/node_modules"
  add_layer "$WORK/base:base" "$WORK/layers/modules" "production node_modules"
  umoci gc --layout "$WORK/base"
  mv "$WORK/base" "$BASE"
else
  log "oci: base layers cached ($BASE)"
fi
LAYOUT=$WORK/oci
# Blobs are immutable: hard links are enough. The index is rewritten, so it is copied.
mkdir -p "$LAYOUT"
cp -al "$BASE/blobs" "$LAYOUT/blobs"
cp "$BASE/index.json" "$BASE/oci-layout" "$LAYOUT/"
umoci tag --image "$LAYOUT:base" "$TAG"
umoci rm --image "$LAYOUT:base"
log "oci: application layer"
add_layer "$LAYOUT:$TAG" "$WORK/layers/app" "jsm-sso $VERSION ($REVISION)"
labels=(
  "org.opencontainers.image.title=jsm-sso"
  "org.opencontainers.image.description=$(node -p "require('./package.json').description")"
  "org.opencontainers.image.version=$VERSION"
  "org.opencontainers.image.revision=$REVISION"
  "org.opencontainers.image.source=$SOURCE_URL"
  "org.opencontainers.image.licenses=$LICENSE_ID"
  "org.opencontainers.image.created=$CREATED"
)
config=(
  --config.user="$UID_GID:$UID_GID"
  --config.workingdir=/app
  --config.entrypoint=/usr/local/bin/node --config.entrypoint=/app/dist/cli/main.js
  --config.cmd=--help
  --config.env=NODE_ENV=production
  --config.env=PATH=/usr/local/bin:/usr/bin:/bin
  --config.exposedports=8080/tcp --config.exposedports=9090/tcp
  --architecture="$OCI_ARCH" --os=linux
  --created="$CREATED" --author="jsm-sso maintainers"
  --history.created="$CREATED" --history.comment="jsm-sso configuration"
)
for label in "${labels[@]}"; do config+=(--config.label="$label" --manifest.annotation="$label"); done
umoci config --image "$LAYOUT:$TAG" "${config[@]}"
umoci gc --layout "$LAYOUT"

ARCHIVE=$OUT/jsm-sso-$VERSION-linux-$OCI_ARCH.oci.tar
rm -f "$ARCHIVE"
skopeo copy --quiet "oci:$LAYOUT:$TAG" "oci-archive:$ARCHIVE:$TAG" >&2
cp "$APP/sbom.spdx.json" "$OUT/jsm-sso-$VERSION-linux-$OCI_ARCH.spdx.json"
log "done: $(du -h "$ARCHIVE" | cut -f1) ($ARCHIVE)"
echo "$ARCHIVE"
