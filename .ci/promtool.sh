#!/usr/bin/env bash
# Make promtool available for the chart's alert-rule tests (test/operator/alerts.test.ts) and print
# its path on the LAST stdout line (progress goes to stderr):
#
#   PROMTOOL=$(bash .ci/promtool.sh | tail -n1)
#
# Built from the Prometheus Go module (github.com/prometheus/prometheus/cmd/promtool) through the Go
# module proxy; no binary download. Idempotent like .ci/k8s-tools.sh: a version stamp next to the
# binary; when it matches, the script only prints the path.
#
# Environment:
#   JSM_SSO_TOOLS_DIR    where the binary lives        (default /var/cache/jsm-sso/tools)
#   JSM_SSO_GO_CACHE     GOMODCACHE/GOCACHE parent dir (default /var/cache/jsm-sso/go)
#   JSM_SSO_BUILD_PROCS  parallelism of go build       (default 2)
set -euo pipefail

# Prometheus 3.x tags its Go module v0.3MM.P for release 3.MM.P.
PROMETHEUS_MODULE_VERSION=v0.316.0
PROMETHEUS_VERSION=3.16.0
# remove_all_sd: promtool checks rules, not service discovery; leaving out the cloud SD plugins
# halves the build.
BUILD_TAGS=remove_all_sd
RECIPE=1

TOOLS_DIR=${JSM_SSO_TOOLS_DIR:-/var/cache/jsm-sso/tools}
GO_CACHE_ROOT=${JSM_SSO_GO_CACHE:-/var/cache/jsm-sso/go}
PROCS=${JSM_SSO_BUILD_PROCS:-2}
STAMP="$PROMETHEUS_MODULE_VERSION tags=$BUILD_TAGS recipe=$RECIPE"

# shellcheck source=progress.sh
. "$(dirname "${BASH_SOURCE[0]}")/progress.sh"
log() { printf '[promtool] %s\n' "$*" >&2; }
up_to_date() {
  [ -x "$TOOLS_DIR/promtool" ] && [ "$(cat "$TOOLS_DIR/.promtool.stamp" 2>/dev/null)" = "$STAMP" ]
}

if up_to_date; then echo "$TOOLS_DIR/promtool"; exit 0; fi

mkdir -p "$TOOLS_DIR"
# Its own lock: k8s-tools.sh may be building in the same directory at the same time.
exec 9>"$TOOLS_DIR/.promtool.lock"
flock 9
if up_to_date; then echo "$TOOLS_DIR/promtool"; exit 0; fi

command -v go >/dev/null || { log "ERROR: go not found in PATH"; exit 1; }
export GOMODCACHE="$GO_CACHE_ROOT/mod" GOCACHE="$GO_CACHE_ROOT/build" GOPATH="$GO_CACHE_ROOT/path"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOMAXPROCS=$PROCS
# -dwarf=false: stripped anyway (-s -w); see .ci/k8s-tools.sh.
export GOFLAGS="-buildvcs=false -trimpath -gcflags=all=-dwarf=false"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/jsm-sso-promtool.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

log "building promtool $PROMETHEUS_VERSION (module $PROMETHEUS_MODULE_VERSION; a cold build takes minutes)"
start=$SECONDS
# The version stamp promtool prints with --version, as Prometheus' own build does.
ld="-s -w -X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION"
ld+=" -X github.com/prometheus/common/version.Branch=release"
GOBIN="$WORK" with_progress "[promtool] go install" \
  nice -n 10 go install -p "$PROCS" -tags "$BUILD_TAGS" -ldflags "$ld" \
  "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_MODULE_VERSION"
mv -f "$WORK/promtool" "$TOOLS_DIR/promtool"
echo "$STAMP" >"$TOOLS_DIR/.promtool.stamp"
log "built promtool in $((SECONDS - start))s: $("$TOOLS_DIR/promtool" --version 2>&1 | head -n1)"
echo "$TOOLS_DIR/promtool"
