#!/usr/bin/env bash
# A throw-away Kubernetes control plane for integration tests, like
# controller-runtime's envtest: etcd + kube-apiserver (+ optionally
# kube-controller-manager for garbage collection / namespace deletion) on free
# loopback ports. No kubelet, scheduler or nodes: pods are stored, never run.
#
#   bash .ci/k8s-envtest.sh start KUBECONFIG   start, wait for /readyz, write KUBECONFIG
#   bash .ci/k8s-envtest.sh stop  KUBECONFIG   stop what `start` started, remove its files
#   bash .ci/k8s-envtest.sh run   KUBECONFIG -- CMD ARGS...
#                                              start, run CMD with KUBECONFIG (and
#                                              JSM_SSO_TOOLS_DIR) exported, stop; CMD's exit code
#   bash .ci/k8s-envtest.sh KUBECONFIG         same as `start`
#
# `start` prints the kubeconfig path on its last stdout line; progress and
# timings go to stderr. State (pids, certs, logs, etcd data) is recorded in
# KUBECONFIG.state (a file naming a temp dir), so `stop` needs only the same path;
# that dir's etcd.url holds etcd's client URL.
# The kubeconfig authenticates with a bearer token as user "admin" in group
# system:masters (cluster-admin under RBAC) and trusts a generated CA.
#
# Environment:
#   JSM_SSO_TOOLS_DIR        dir with kube-apiserver, etcd (and kube-controller-manager);
#                            when the binaries are missing .ci/k8s-tools.sh is run to make them
#   K8S_ENVTEST_KCM=0|1      run kube-controller-manager (default 1 when the binary exists)
#   K8S_ENVTEST_KCM_CONTROLLERS  more of its controllers, comma-separated (deployment-controller,
#                            replicaset-controller, resourcequota-controller...): pods are made then,
#                            and never run
#   K8S_ENVTEST_APISERVER_ARGS  extra kube-apiserver flags (word-split)
#   K8S_ENVTEST_TIMEOUT      seconds to wait for readiness (default 180)
#   K8S_ENVTEST_NODE=1       a single-node cluster instead (.ci/k8s-node.sh): also kube-scheduler,
#                            containerd and a kubelet whose node is Ready; the API server listens
#                            at the "kubernetes" Service's ClusterIP:443. Needs root.
#   K8S_ENVTEST_IMAGES       with a node: NAME=OCI_ARCHIVE words, imported into containerd before
#                            kubelet starts (pods use them with imagePullPolicy IfNotPresent)
set -euo pipefail

log() { printf '[k8s-envtest] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }
usage() { sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//; /^set -e/d' >&2; exit 2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=k8s-node.sh
. "$HERE/k8s-node.sh"

cmd=${1:-}
case $cmd in
  start|stop|run) shift ;;
  -h|--help|"") usage ;;
  *) cmd=start ;;
esac
[ $# -ge 1 ] || usage
KUBECONFIG_OUT=$1; shift
case $KUBECONFIG_OUT in /*) ;; *) KUBECONFIG_OUT=$PWD/$KUBECONFIG_OUT ;; esac
STATE_FILE=$KUBECONFIG_OUT.state

# ---------------------------------------------------------------- stop ----
# Send SIGTERM to the pids that still run the binary we started (pids get
# reused), then wait for them; SIGKILL after 10s.
stop_procs() { # dir name...
  local dir=$1 name pid pids=(); shift
  for name in "$@"; do
    pid=$(cat "$dir/$name.pid" 2>/dev/null) || continue
    if ! tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline" | head -n1 | grep -q "/$name\$"; then continue; fi
    kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
  done
  for pid in ${pids[@]+"${pids[@]}"}; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { log "pid $pid ignored SIGTERM for 10s; killing"; kill -KILL "$pid" 2>/dev/null || true; }
  done
  return 0
}

do_stop() {
  [ -f "$STATE_FILE" ] || { log "nothing to stop ($STATE_FILE missing)"; return 0; }
  local dir; dir=$(cat "$STATE_FILE")
  if [ -d "$dir" ]; then
    # The node first (kubelet would restart what is stopped), etcd's clients, then etcd.
    stop_node "$dir"
    stop_procs "$dir" kube-controller-manager kube-apiserver
    stop_procs "$dir" etcd
    [ -f "$dir/etcd-data.path" ] && rm -rf "$(cat "$dir/etcd-data.path")"
    rm -rf "$dir"
  fi
  rm -f "$STATE_FILE" "$KUBECONFIG_OUT"
  log "stopped"
}

if [ "$cmd" = stop ]; then do_stop; exit 0; fi

# --------------------------------------------------------------- start ----
[ ! -f "$STATE_FILE" ] || die "$STATE_FILE exists: already running? (run: $0 stop $KUBECONFIG_OUT)"

TOOLS=${JSM_SSO_TOOLS_DIR:-/var/cache/jsm-sso/tools}
if ! [ -x "$TOOLS/kube-apiserver" ] || ! [ -x "$TOOLS/etcd" ]; then
  log "binaries missing in $TOOLS; running k8s-tools.sh"
  TOOLS=$(bash "$HERE/k8s-tools.sh" | tail -n1)
fi
for b in openssl curl base64; do command -v $b >/dev/null || die "$b is required"; done

KCM=${K8S_ENVTEST_KCM:-auto}
if [ "$KCM" = auto ]; then [ -x "$TOOLS/kube-controller-manager" ] && KCM=1 || KCM=0; fi
TIMEOUT=${K8S_ENVTEST_TIMEOUT:-180}
NODE=${K8S_ENVTEST_NODE:-0}
# A node needs Deployments, ReplicaSets and ServiceAccounts made: kube-controller-manager.
[ "$NODE" = 1 ] && KCM=1

mkdir -p "$(dirname "$KUBECONFIG_OUT")"
DIR=$(mktemp -d "${TMPDIR:-/tmp}/k8s-envtest.XXXXXX")
echo "$DIR" >"$STATE_FILE"
# On any failure during start, tear down what was started.
started=0
on_exit() { [ "$started" = 1 ] || { log "start failed; logs were in $DIR"; tail -n 30 "$DIR"/*.log >&2 2>/dev/null || true; do_stop; }; }
trap on_exit EXIT
# Also clean up when killed (bash skips the EXIT trap on an untrapped signal).
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# Free TCP port on 127.0.0.1: random pick, rejected if anything listens on it.
# (Racy like envtest's own picker; another process could take it before us.)
# 10000-31999 stays below Linux's ephemeral range (32768+), so outgoing
# connections will not grab it in the meantime.
used_ports=" "
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((10000 + RANDOM % 22000))
    case $used_ports in *" $p "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      used_ports+="$p "
      echo "$p"
      return 0
    fi
  done
  die "no free port found"
}
[ "$NODE" = 1 ] && node_prepare
ETCD_CLIENT_PORT=$(free_port); used_ports+="$ETCD_CLIENT_PORT "
ETCD_PEER_PORT=$(free_port); used_ports+="$ETCD_PEER_PORT "
API_PORT=$(free_port)

# ---- credentials -----------------------------------------------------------
t0=$(date +%s.%N)
mkdir -p "$DIR/pki"
(
  cd "$DIR/pki"
  # CA + serving cert for 127.0.0.1/localhost, so clients verify TLS for real.
  openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=k8s-envtest-ca" \
    -keyout ca.key -out ca.crt 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
    -keyout apiserver.key -out apiserver.csr 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc%s\nextendedKeyUsage=serverAuth\n' \
    "$([ "$NODE" = 1 ] && node_cert_sans)" >ext.cnf
  openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
    -days 7 -extfile ext.cnf -out apiserver.crt 2>/dev/null
  # Key pair the apiserver signs/verifies ServiceAccount tokens with.
  openssl genrsa -out sa.key 2048 2>/dev/null
  openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  # Static token file: token,user,uid,"groups". system:masters = cluster-admin.
  TOKEN=$(openssl rand -hex 24)
  echo "$TOKEN,admin,admin,\"system:masters\"" >tokens.csv
  echo "$TOKEN" >admin.token
)
chmod 600 "$DIR/pki/"*.key "$DIR/pki/tokens.csv" "$DIR/pki/admin.token"
[ "$NODE" = 1 ] && node_pki
TOKEN=$(cat "$DIR/pki/admin.token")

# ---- etcd ------------------------------------------------------------------
# Data on tmpfs when there is room: the test data is disposable and etcd
# fsyncs on every write (3.4 has no --unsafe-no-fsync), which is slow on disk.
ETCD_DATA=$DIR/etcd-data
if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR==2{print $4}')" -gt 1048576 ]; then
  ETCD_DATA=$(mktemp -d /dev/shm/k8s-envtest-etcd.XXXXXX)
  echo "$ETCD_DATA" >"$DIR/etcd-data.path"
fi
ETCD_URL=http://127.0.0.1:$ETCD_CLIENT_PORT
ETCD_PEER=http://127.0.0.1:$ETCD_PEER_PORT
ETCD_ARGS=(
  --name=envtest --data-dir="$ETCD_DATA"
  # single member on loopback; plain HTTP, only the apiserver talks to it
  --listen-client-urls="$ETCD_URL" --advertise-client-urls="$ETCD_URL"
  --listen-peer-urls="$ETCD_PEER" --initial-advertise-peer-urls="$ETCD_PEER"
  --initial-cluster="envtest=$ETCD_PEER"
)
setsid "$TOOLS/etcd" "${ETCD_ARGS[@]}" </dev/null >"$DIR/etcd.log" 2>&1 &
echo $! >"$DIR/etcd.pid"
# For tests that act on etcd itself (compaction: test/pool/kube-source-expired.test.ts).
echo "$ETCD_URL" >"$DIR/etcd.url"

wait_until() { # what deadline-seconds command...
  local what=$1 limit=$2; shift 2
  local end=$((SECONDS + limit))
  until "$@" >/dev/null; do
    [ $SECONDS -lt $end ] || die "$what not ready after ${limit}s"
    sleep 0.2
  done
}
alive() { kill -0 "$(cat "$DIR/$1.pid")" 2>/dev/null || die "$1 exited; see its log above"; }
etcd_ok() { alive etcd; curl -sf "$ETCD_URL/health" | grep -q '"health":"true"'; }
wait_until etcd "$TIMEOUT" etcd_ok
t_etcd=$(date +%s.%N)

# ---- kube-apiserver ----------------------------------------------------------
# shellcheck disable=SC2206
EXTRA=(${K8S_ENVTEST_APISERVER_ARGS:-})
if [ "$NODE" = 1 ]; then
  node_apiserver_args
  MODE_ARGS=("${NODE_API_ARGS[@]}")
  API_URL=https://$SVC_IP:443
else
  MODE_ARGS=(
    --bind-address=127.0.0.1 --secure-port="$API_PORT"
    # the address clients are told to use; the default is a host NIC address
    --advertise-address=127.0.0.1
    # do not maintain the "kubernetes" Service's Endpoints: a loopback address
    # is invalid there and the reconciler would log an error every 10s
    --endpoint-reconciler-type=none
    # ClusterIP allocation range (addresses are only stored: no kube-proxy here)
    --service-cluster-ip-range=10.0.0.0/24
    --authorization-mode=RBAC
    # no kubelet here, so skip the ServiceAccount admission plugin: it only adds
    # token volumes and rejects pods until the namespace's "default"
    # ServiceAccount exists (made by the controller-manager, if at all)
    --disable-admission-plugins=ServiceAccount
  )
  API_URL=https://127.0.0.1:$API_PORT
fi
API_ARGS=(
  --etcd-servers="$ETCD_URL"
  "${MODE_ARGS[@]}"
  # our own serving cert (clients verify it via the kubeconfig's CA); cert-dir
  # only so that nothing is ever written to the default /var/run/kubernetes
  --tls-cert-file="$DIR/pki/apiserver.crt" --tls-private-key-file="$DIR/pki/apiserver.key"
  --cert-dir="$DIR/apiserver-certs"
  # bearer-token auth for the admin kubeconfig; no anonymous requests
  --token-auth-file="$DIR/pki/tokens.csv" --anonymous-auth=false
  # real RBAC (MODE_ARGS), so charts' Roles/Bindings are enforced as on a cluster
  # ServiceAccount token issuing/verification (TokenRequest API); required flags
  --service-account-issuer=https://kubernetes.default.svc.cluster.local
  --service-account-key-file="$DIR/pki/sa.pub"
  --service-account-signing-key-file="$DIR/pki/sa.key"
  # accept privileged pod specs, as envtest does
  --allow-privileged=true
  "${EXTRA[@]}"
)
setsid "$TOOLS/kube-apiserver" "${API_ARGS[@]}" </dev/null >"$DIR/kube-apiserver.log" 2>&1 &
echo $! >"$DIR/kube-apiserver.pid"

api_ok() {
  alive kube-apiserver
  [ "$(curl -s --cacert "$DIR/pki/ca.crt" -H "Authorization: Bearer $TOKEN" "$API_URL/readyz")" = ok ]
}
wait_until kube-apiserver "$TIMEOUT" api_ok
t_api=$(date +%s.%N)
# /readyz can pass a moment before the system-namespaces controller has made
# "default" (and kube-system); tests usually start by writing there.
default_ns_ok() {
  [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$DIR/pki/ca.crt" \
    -H "Authorization: Bearer $TOKEN" "$API_URL/api/v1/namespaces/default")" = 200 ]
}
wait_until 'namespace "default"' "$TIMEOUT" default_ns_ok

# ---- kubeconfig --------------------------------------------------------------
write_kubeconfig() { # path
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: envtest
  cluster:
    server: $API_URL
    certificate-authority-data: $(base64 -w0 "$DIR/pki/ca.crt")
users:
- name: admin
  user:
    token: $TOKEN
contexts:
- name: envtest
  context:
    cluster: envtest
    user: admin
    namespace: default
current-context: envtest
EOF
  chmod 600 "$1"
}
write_kubeconfig "$KUBECONFIG_OUT"

# ---- kube-controller-manager (optional) --------------------------------------
if [ "$KCM" = 1 ]; then
  write_kubeconfig "$DIR/kcm.kubeconfig"
  # shellcheck disable=SC2054 # --controllers takes a comma-separated list
  KCM_ARGS=(
    --kubeconfig="$DIR/kcm.kubeconfig"
    # only what a control plane without nodes needs: ownerReference cascading
    # deletion, namespace deletion, "default" ServiceAccount per namespace
    --controllers=garbage-collector-controller,namespace-controller,serviceaccount-controller
    # single instance: do not wait for a leader lease
    --leader-elect=false
    # no HTTPS endpoint (healthz/metrics) of its own
    --secure-port=0
  )
  # Asked for, more controllers (joining the list above, as '*' does).
  [ -n "${K8S_ENVTEST_KCM_CONTROLLERS:-}" ] && KCM_ARGS+=(--controllers="$K8S_ENVTEST_KCM_CONTROLLERS")
  # With a node, every default controller ('*' joins the list above).
  [ "$NODE" = 1 ] && node_kcm_args && KCM_ARGS+=("${NODE_KCM_ARGS[@]}")
  setsid "$TOOLS/kube-controller-manager" "${KCM_ARGS[@]}" \
    </dev/null >"$DIR/kube-controller-manager.log" 2>&1 &
  echo $! >"$DIR/kube-controller-manager.pid"
  sleep 0.5
  alive kube-controller-manager
fi

[ "$NODE" = 1 ] && start_node
started=1
trap - EXIT
log "etcd ready $(secs "$t0" "$t_etcd")s after start, kube-apiserver $(secs "$t_etcd" "$t_api")s after etcd ($API_URL, etcd $ETCD_URL, kcm=$KCM)"
log "logs: $DIR/*.log; stop with: bash $0 stop $KUBECONFIG_OUT"

if [ "$cmd" = run ]; then
  [ "${1:-}" = -- ] && shift
  [ $# -gt 0 ] || { do_stop; die "run: no command given"; }
  trap do_stop EXIT
  # CMD runs in the background so that a signal to this script (e.g. from
  # `timeout`) is handled at once: pass it on to CMD, then stop the cluster.
  KUBECONFIG=$KUBECONFIG_OUT JSM_SSO_TOOLS_DIR=$TOOLS "$@" <&0 &
  child=$!
  trap 'kill -TERM "$child" 2>/dev/null || true' INT TERM HUP
  rc=0
  wait "$child" || rc=$?
  while kill -0 "$child" 2>/dev/null; do rc=0; wait "$child" || rc=$?; done
  exit "$rc"
fi
echo "$KUBECONFIG_OUT"
