#!/usr/bin/env bash
# Node.js 22 LTS for CI, the image and developers on a machine whose Debian ships Node 20 (end of
# life). It comes from the npm registry's node-linux-<arch> package (the official binary, checked by
# npm against the registry's integrity hash), is unpacked once into a cache, and the LAST stdout
# line is the folder to put first on PATH (progress goes to stderr):
#
#   PATH="$(bash .ci/node22.sh | tail -n1):$PATH"
#
# Environment:
#   JSM_SSO_NODE_VERSION  the exact version (default below; bump it here)
#   JSM_SSO_NODE_CACHE    cache parent folder (default /var/cache/jsm-sso/node)
#   JSM_SSO_NODE_ARCH     x64 or arm64 (default: this machine's)
set -euo pipefail

VERSION=${JSM_SSO_NODE_VERSION:-22.23.5}
case "${JSM_SSO_NODE_ARCH:-$(uname -m)}" in
  x86_64 | amd64 | x64) ARCH=x64 ;;
  aarch64 | arm64) ARCH=arm64 ;;
  *) echo "node22: no Node.js package for architecture $(uname -m)" >&2; exit 1 ;;
esac
DIR=${JSM_SSO_NODE_CACHE:-/var/cache/jsm-sso/node}/$VERSION-linux-$ARCH

if [ ! -x "$DIR/bin/node" ]; then
  echo "node22: fetching node-linux-$ARCH@$VERSION from the npm registry" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "node-linux-$ARCH@$VERSION" >/dev/null)
  tar -xzf "$work"/node-linux-"$ARCH"-*.tgz -C "$work" package/bin/node package/LICENSE
  mkdir -p "$DIR/bin"
  cp "$work/package/LICENSE" "$DIR/LICENSE"
  # Moved into place last, so an interrupted fetch never leaves a half-written node behind.
  mv "$work/package/bin/node" "$DIR/bin/node.partial"
  mv "$DIR/bin/node.partial" "$DIR/bin/node"
fi
echo "node22: $("$DIR/bin/node" --version) in $DIR/bin" >&2
echo "$DIR/bin"
