#!/usr/bin/env bash
# Make kube-apiserver, kube-controller-manager, etcd and helm (and, on request,
# kube-scheduler and kubelet) available for
# integration tests, and print the directory holding them on the LAST stdout
# line (progress goes to stderr):
#
#   TOOLS=$(bash .ci/k8s-tools.sh | tail -n1)
#
# Idempotent: each binary has a version stamp in the tools dir; when all stamps
# match, the script only prints the dir (well under a second).
#
# Sources (no binary downloads; only the Go module proxy and Debian apt):
#   kube-apiserver, kube-controller-manager  built from module k8s.io/kubernetes
#   kube-scheduler, kubelet, kubectl         (JSM_SSO_WITH_NODE=1) the same way
#   pause, pause.oci.tar                     (JSM_SSO_WITH_NODE=1) the pod sandbox image, from
#                                            .ci/pause/main.go, packed with umoci and skopeo
#   kube-router                              (JSM_SSO_WITH_NODE=1) built from module
#                                            github.com/cloudnativelabs/kube-router/v2: its firewall
#                                            alone enforces the cluster's NetworkPolicies (ADR 0431)
#   etcd                                     Debian's etcd-server (symlinked), else
#                                            built from go.etcd.io/etcd/server/v3
#   helm                                     built from module helm.sh/helm/v3
#
# Environment:
#   JSM_SSO_TOOLS_DIR   where binaries live   (default /var/cache/jsm-sso/tools)
#   JSM_SSO_WITH_KCM=0  skip kube-controller-manager (it gives garbage collection
#                       and namespace deletion; costs a few extra build minutes)
#   JSM_SSO_WITH_NODE=1 also kube-scheduler, kubelet and kubectl (a single-node cluster
#                       with containerd, runc and the CNI plugins from Debian:
#                       testkit/node-cluster.ts; kubectl runs the README's quick start)
#   JSM_SSO_ETCD_FROM_SOURCE=1  build etcd from Go source even if apt has it
#   JSM_SSO_GO_CACHE    persistent GOMODCACHE/GOCACHE parent dir; default is a
#                       temp dir removed afterwards (binaries are what we cache)
#   JSM_SSO_BUILD_PROCS parallelism of go build (default 2; lower it when the
#                       machine is busy with other builds)
set -euo pipefail

# ---- pinned versions (bump here; stamps make the next run rebuild) ----------
K8S_VERSION=v1.32.13          # k8s.io/kubernetes; staging modules are v0.32.13
HELM_VERSION=v3.20.2          # helm.sh/helm/v3 (supports k8s 1.32-1.35)
ETCD_GO_VERSION=v3.5.21       # fallback only, when apt has no etcd-server
KUBE_ROUTER_VERSION=v2.1.0    # github.com/cloudnativelabs/kube-router/v2 (client-go v0.29; a cold build ~7 min)
# Staging modules pinned away from v0.<minor>.<patch>. The module proxy
# reachable from these machines serves no zip for k8s.io/endpointslice
# v0.32.13 (403 "This module version is not available"); v0.32.12 is the
# nearest patch. Only kube-controller-manager imports it.
STAGING_PINS="k8s.io/endpointslice=v0.32.12"
# Bump when the build recipe itself changes in a way that needs a rebuild; not for a change that
# only builds the same binaries faster (every machine's warm cache would rebuild for nothing).
RECIPE=1

TOOLS_DIR=${JSM_SSO_TOOLS_DIR:-/var/cache/jsm-sso/tools}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=progress.sh
. "$HERE/progress.sh"
WITH_KCM=${JSM_SSO_WITH_KCM:-1}
WITH_NODE=${JSM_SSO_WITH_NODE:-0}
PROCS=${JSM_SSO_BUILD_PROCS:-2}

log() { printf '[k8s-tools] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Stamp content for each tool; a binary is up to date iff its stamp matches.
stamp_of() {
  case $1 in
    kube-apiserver|kube-controller-manager|kube-scheduler|kubelet|kubectl) echo "$K8S_VERSION $STAGING_PINS recipe=$RECIPE" ;;
    helm) echo "$HELM_VERSION recipe=$RECIPE" ;;
    etcd) echo "$ETCD_GO_VERSION recipe=$RECIPE" ;; # when built from source
    etcd-debian) echo "debian recipe=$RECIPE" ;;    # symlink to Debian's /usr/bin/etcd
    kube-router) echo "$KUBE_ROUTER_VERSION recipe=$RECIPE" ;;
    pause) echo "$(sha256sum <"$HERE/pause/main.go" | cut -c1-16) recipe=$RECIPE" ;;
  esac
}
wanted_tools() {
  echo kube-apiserver etcd helm
  [ "$WITH_KCM" = 1 ] && echo kube-controller-manager
  [ "$WITH_NODE" = 1 ] && echo kube-scheduler kubelet kubectl pause kube-router
  return 0
}
up_to_date() { # tool
  local t=$1
  [ -f "$TOOLS_DIR/$t" ] && [ -x "$TOOLS_DIR/$t" ] || return 1
  [ "$t" = pause ] && ! [ -f "$TOOLS_DIR/pause.oci.tar" ] && return 1
  local have; have=$(cat "$TOOLS_DIR/.$t.stamp" 2>/dev/null) || return 1
  [ "$have" = "$(stamp_of "$t")" ] && return 0
  # Debian's etcd is fine too, unless a source build is asked for.
  [ "$t" = etcd ] && [ "${JSM_SSO_ETCD_FROM_SOURCE:-0}" != 1 ] && [ "$have" = "$(stamp_of etcd-debian)" ]
}
all_up_to_date() {
  local t
  for t in $(wanted_tools); do up_to_date "$t" || return 1; done
}

# ---- fast path: nothing to do -----------------------------------------------
if all_up_to_date; then
  echo "$TOOLS_DIR"
  exit 0
fi

mkdir -p "$TOOLS_DIR"
# Serialise concurrent runs (e.g. two test jobs starting at once).
exec 9>"$TOOLS_DIR/.lock"
if ! flock -n 9; then
  log "another k8s-tools.sh run holds $TOOLS_DIR/.lock; waiting"
  flock 9
fi
if all_up_to_date; then echo "$TOOLS_DIR"; exit 0; fi

command -v go >/dev/null || die "go not found in PATH"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/jsm-sso-k8s-tools.XXXXXX")
cleanup() {
  # The module cache is read-only by design; make it removable first.
  chmod -R u+w "$WORK" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/out"

GO_CACHE_ROOT=${JSM_SSO_GO_CACHE:-$WORK/go}
export GOMODCACHE="$GO_CACHE_ROOT/mod" GOCACHE="$GO_CACHE_ROOT/build" GOPATH="$GO_CACHE_ROOT/path"
export GOTOOLCHAIN=local          # use the installed Go; never download another
export CGO_ENABLED=0              # static binaries, no C compiler needed
# -dwarf=false: the binaries are stripped (-s -w) anyway, so the compiler need not write debug
# information the linker drops (about 12 % less compile CPU, ADR 0196).
export GOFLAGS="-mod=mod -buildvcs=false -trimpath -gcflags=all=-dwarf=false"
export GOMAXPROCS=$PROCS
# nice: the lead machine runs npm builds concurrently; let them win.
# with_progress: a cold build prints nothing for minutes.
GOBUILD=(with_progress "[k8s-tools] go build" nice -n 10 go build -p "$PROCS")

# Path of the go.mod of MODULE@VERSION (downloads it into the module cache).
gomod_of() { # module version
  (cd "$WORK" && go mod download -json "$1@$2" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
}
# Header for a wrapper go.mod: keep the dependency's own language version and
# GODEBUG defaults, since the main module decides them.
wrapper_header() { # name dep-go.mod
  printf 'module jsm-sso.local/%s\n\ngo %s\n\n' "$1" "$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$2")"
  grep '^godebug ' "$2" || true
  echo
}

# go build writes into a temp name, then we move it in place (atomic install).
install_bin() { # built-file tool
  [ -f "$1" ] || die "$1 was not built"
  rm -rf "${TOOLS_DIR:?}/$2"
  mv -f "$1" "$TOOLS_DIR/$2"
  stamp_of "$2" >"$TOOLS_DIR/.$2.stamp"
}

# ---- kube-apiserver / kube-controller-manager --------------------------------
build_kubernetes() {
  local need=() t
  for t in kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl; do
    [ "$t" = kube-controller-manager ] && [ "$WITH_KCM" != 1 ] && continue
    case $t in kube-scheduler|kubelet|kubectl) [ "$WITH_NODE" = 1 ] || continue ;; esac
    up_to_date "$t" || need+=("$t")
  done
  [ ${#need[@]} -gt 0 ] || return 0

  local mod="$WORK/k8s" staging_ver="v0.${K8S_VERSION#v1.}"
  mkdir -p "$mod"
  log "kubernetes $K8S_VERSION: fetching go.mod (staging modules at $staging_ver)"
  # k8s.io/kubernetes is not meant to be used as a dependency: its go.mod
  # requires its staging modules at v0.0.0 and replaces them with
  # ./staging/src/k8s.io/<name>, which only works inside its own repo. A
  # wrapper module replaces each with the published k8s.io/<name> at the
  # matching v0.Y.Z tag instead.
  local kmod
  kmod=$(gomod_of k8s.io/kubernetes "$K8S_VERSION")
  [ -f "$kmod" ] || die "could not download k8s.io/kubernetes@$K8S_VERSION"
  local staging
  staging=$(sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/src/.*#\1#p' "$kmod" | sort -u)
  [ -n "$staging" ] || die "no staging replace lines found in $kmod"
  {
    wrapper_header k8s-build "$kmod"
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    local v pin
    for t in $staging; do
      v=$staging_ver
      for pin in $STAGING_PINS; do [ "${pin%%=*}" = "$t" ] && v=${pin#*=}; done
      echo "	$t => $t $v"
    done
    echo ")"
  } >"$mod/go.mod"
  log "wrapper go.mod: $(echo "$staging" | wc -l) staging replaces"

  # What upstream's hack/lib/version.sh stamps in; without it /version says
  # v0.0.0-master and clients such as helm (kubeVersion constraints) break.
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  local date; date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  local ld="-s -w" p
  for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    ld+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ld+=" -X $p.gitTreeState=clean -X $p.buildDate=$date"
  done

  # One go build for all of them: it loads the module graph once, compiles each shared package once
  # and links the binaries in parallel (-p) instead of one after another.
  local pkgs=() s=$SECONDS
  for t in "${need[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$t"); done
  log "building ${need[*]} $K8S_VERSION (a cold build takes 10 to 30 minutes)"
  (cd "$mod" && "${GOBUILD[@]}" -ldflags="$ld" -o "$WORK/out/" "${pkgs[@]}") ||
    die "go build of ${need[*]} failed (see above)"
  for t in "${need[@]}"; do install_bin "$WORK/out/$t" "$t"; done
  log "built ${need[*]} in $((SECONDS - s))s"
}

# ---- etcd ---------------------------------------------------------------------
build_etcd() {
  up_to_date etcd && return 0
  if [ "${JSM_SSO_ETCD_FROM_SOURCE:-0}" != 1 ]; then
    if ! [ -x /usr/bin/etcd ] && command -v apt-get >/dev/null; then
      if apt-cache show etcd-server >/dev/null 2>&1 || { apt-get update >&2 && apt-cache show etcd-server >/dev/null 2>&1; }; then
        log "installing Debian etcd-server"
        # (On a systemd host the package also enables an etcd service on
        # :2379; our test etcd uses random ports, so it does not clash.)
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
          install -y --no-install-recommends etcd-server >&2 ||
          log "apt-get install etcd-server failed; building from source"
      fi
    fi
    if [ -x /usr/bin/etcd ]; then
      rm -rf "${TOOLS_DIR:?}/etcd"
      ln -s /usr/bin/etcd "$TOOLS_DIR/etcd"
      stamp_of etcd-debian >"$TOOLS_DIR/.etcd.stamp"
      log "etcd: $(/usr/bin/etcd --version | head -n1) (Debian)"
      return 0
    fi
  fi
  # Build from source. etcd's server module carries replace directives, so
  # `go install …@version` refuses it; use a wrapper module instead.
  log "building etcd $ETCD_GO_VERSION from go.etcd.io/etcd/server/v3"
  local mod="$WORK/etcd" s=$SECONDS
  mkdir -p "$mod"
  local dep; dep=$(gomod_of go.etcd.io/etcd/server/v3 "$ETCD_GO_VERSION")
  [ -f "$dep" ] || die "could not download go.etcd.io/etcd/server/v3@$ETCD_GO_VERSION"
  { wrapper_header etcd-build "$dep"
    echo "require go.etcd.io/etcd/server/v3 $ETCD_GO_VERSION"; } >"$mod/go.mod"
  (cd "$mod" && "${GOBUILD[@]}" -ldflags="-s -w" -o "$WORK/out/etcd" go.etcd.io/etcd/server/v3) ||
    die "go build of etcd failed"
  install_bin "$WORK/out/etcd" etcd
  log "built etcd in $((SECONDS - s))s"
}

# ---- helm ---------------------------------------------------------------------
build_helm() {
  up_to_date helm && return 0
  log "building helm $HELM_VERSION"
  local mod="$WORK/helm" s=$SECONDS
  mkdir -p "$mod"
  # `go install helm.sh/helm/v3/cmd/helm@VERSION` would do, but a wrapper
  # lets us stamp the version like helm's Makefile does.
  local dep; dep=$(gomod_of helm.sh/helm/v3 "$HELM_VERSION")
  [ -f "$dep" ] || die "could not download helm.sh/helm/v3@$HELM_VERSION"
  { wrapper_header helm-build "$dep"
    echo "require helm.sh/helm/v3 $HELM_VERSION"; } >"$mod/go.mod"
  local ld="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  ld+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  # Like helm's Makefile: the default kube version used offline (helm
  # template, lint) is that of the client-go helm was built with.
  local cg; cg=$(sed -n 's#^[[:space:]]*k8s.io/client-go v0\.\([0-9]*\)\..*#\1#p' "$dep" | head -n1)
  if [ -n "$cg" ]; then
    local p
    for p in pkg/lint/rules pkg/chartutil; do
      ld+=" -X helm.sh/helm/v3/$p.k8sVersionMajor=1 -X helm.sh/helm/v3/$p.k8sVersionMinor=$cg"
    done
  fi
  (cd "$mod" && "${GOBUILD[@]}" -ldflags="$ld" -o "$WORK/out/helm" helm.sh/helm/v3/cmd/helm) ||
    die "go build of helm failed"
  install_bin "$WORK/out/helm" helm
  log "built helm in $((SECONDS - s))s"
}

# ---- pause: the pod sandbox image (the CRI's sandbox_image) ---------------------
build_pause() {
  [ "$WITH_NODE" = 1 ] || return 0
  up_to_date pause && return 0
  log "building the pause image from .ci/pause/main.go"
  (cd "$WORK" && "${GOBUILD[@]}" -ldflags="-s -w" -o "$WORK/out/pause" "$HERE/pause/main.go") ||
    die "go build of pause failed"
  local layout=$WORK/pause-oci bundle=$WORK/pause-bundle
  { umoci init --layout "$layout" &&
    umoci new --image "$layout:pause" &&
    umoci unpack --image "$layout:pause" "$bundle" &&
    install -m 0755 "$WORK/out/pause" "$bundle/rootfs/pause" &&
    umoci repack --image "$layout:pause" "$bundle" &&
    umoci config --image "$layout:pause" --config.entrypoint=/pause --config.user=65535:65535 &&
    skopeo copy --quiet "oci:$layout:pause" "oci-archive:$WORK/out/pause.oci.tar:pause"; } >&2 ||
    die "packing the pause image failed (umoci, skopeo)"
  mv -f "$WORK/out/pause.oci.tar" "$TOOLS_DIR/pause.oci.tar"
  install_bin "$WORK/out/pause" pause
}

# ---- kube-router: the node's NetworkPolicy enforcement (its firewall only) -----
build_kube_router() {
  [ "$WITH_NODE" = 1 ] || return 0
  up_to_date kube-router && return 0
  log "building kube-router $KUBE_ROUTER_VERSION"
  local mod="$WORK/kube-router" s=$SECONDS
  mkdir -p "$mod"
  local dep; dep=$(gomod_of github.com/cloudnativelabs/kube-router/v2 "$KUBE_ROUTER_VERSION")
  [ -f "$dep" ] || die "could not download github.com/cloudnativelabs/kube-router/v2@$KUBE_ROUTER_VERSION"
  { wrapper_header kube-router-build "$dep"
    echo "require github.com/cloudnativelabs/kube-router/v2 $KUBE_ROUTER_VERSION"; } >"$mod/go.mod"
  (cd "$mod" && "${GOBUILD[@]}" -ldflags="-s -w" -o "$WORK/out/kube-router" \
    github.com/cloudnativelabs/kube-router/v2/cmd/kube-router) || die "go build of kube-router failed"
  install_bin "$WORK/out/kube-router" kube-router
  log "built kube-router in $((SECONDS - s))s"
}

start=$SECONDS
build_etcd
build_helm
build_kubernetes
build_pause
build_kube_router
log "tools ready in $TOOLS_DIR ($((SECONDS - start))s)"
for t in $(wanted_tools); do log "  $t: $(cat "$TOOLS_DIR/.$t.stamp")"; done
echo "$TOOLS_DIR"
