#!/usr/bin/env bash
# Make actionlint available for checking .github/workflows and print its path on the LAST stdout
# line (progress goes to stderr):
#
#   ACTIONLINT=$(bash .ci/actionlint.sh | tail -n1)
#
# Built from its Go module through the Go module proxy (no binary download) into the tools cache,
# with a version stamp like .ci/k8s-tools.sh, so a second run takes well under a second.
#
# Environment: JSM_SSO_TOOLS_DIR (default /var/cache/jsm-sso/tools), JSM_SSO_GO_CACHE (persistent
# module and build cache parent; default a temp dir), JSM_SSO_BUILD_PROCS (default 2).
set -euo pipefail

# shellcheck source=progress.sh
. "$(dirname "${BASH_SOURCE[0]}")/progress.sh"

VERSION=v1.7.12
TOOLS_DIR=${JSM_SSO_TOOLS_DIR:-/var/cache/jsm-sso/tools}
STAMP="$VERSION recipe=1"
up_to_date() { [ -x "$TOOLS_DIR/actionlint" ] && [ "$(cat "$TOOLS_DIR/.actionlint.stamp" 2>/dev/null)" = "$STAMP" ]; }
if up_to_date; then echo "$TOOLS_DIR/actionlint"; exit 0; fi

mkdir -p "$TOOLS_DIR"
exec 9>"$TOOLS_DIR/.actionlint.lock"
flock 9
if up_to_date; then echo "$TOOLS_DIR/actionlint"; exit 0; fi
command -v go >/dev/null || { echo "[actionlint] go not found in PATH" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/jsm-sso-actionlint.XXXXXX")
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
GO_CACHE_ROOT=${JSM_SSO_GO_CACHE:-$WORK/go}
export GOMODCACHE="$GO_CACHE_ROOT/mod" GOCACHE="$GO_CACHE_ROOT/build" GOBIN="$WORK/bin"
# -dwarf=false: stripped anyway (-s -w); see .ci/k8s-tools.sh.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-trimpath -gcflags=all=-dwarf=false"
export GOMAXPROCS=${JSM_SSO_BUILD_PROCS:-2}
echo "[actionlint] building github.com/rhysd/actionlint $VERSION" >&2
with_progress "[actionlint] go install" nice -n 10 go install -p "$GOMAXPROCS" \
  -ldflags "-s -w -X github.com/rhysd/actionlint.version=$VERSION" \
  "github.com/rhysd/actionlint/cmd/actionlint@$VERSION" >&2
mv "$WORK/bin/actionlint" "$TOOLS_DIR/actionlint.partial"
mv "$TOOLS_DIR/actionlint.partial" "$TOOLS_DIR/actionlint"
echo "$STAMP" >"$TOOLS_DIR/.actionlint.stamp"
echo "$TOOLS_DIR/actionlint"
