# shellcheck shell=bash
# The node half of a single-node cluster, sourced by k8s-envtest.sh when K8S_ENVTEST_NODE=1:
# containerd (Debian) with runc and the CNI plugins, kubelet and kube-scheduler (built by
# k8s-tools.sh with JSM_SSO_WITH_NODE=1), and the network that joins them. Every file, socket and
# log lives under the start's temp dir ($DIR); what lives outside it (the bridge, the pods' network
# namespaces, mounts, container processes) is recorded there so `stop` removes exactly that.
# docs/decisions/0070-a-single-node-cluster-in-ci.md says why each setting is what it is.
#
# There is no kube-proxy: Services get ClusterIPs that route nowhere. The one Service pods need,
# "kubernetes" (the operator's in-cluster API access), gets the first address of the Service range,
# and that address is put on the node's bridge with kube-apiserver listening on it at 443: the
# ClusterIP and port that kubelet tells pods (KUBERNETES_SERVICE_HOST/PORT) reach the API server
# itself. Tests reach pods at their pod IPs, which the host routes to over the bridge.
#
# NetworkPolicies are enforced: kube-router runs with its firewall alone (no routing, no service
# proxy), writing iptables chains and ipsets for the policies of the pods on this node. The bridge's
# traffic passes iptables (br_netfilter), so pod-to-pod traffic on the one bridge is filtered too.
# Its chains and sets are the host's (one network namespace), named KUBE-ROUTER-*/KUBE-NWPLCY-*/
# KUBE-POD-FW-*, sets KUBE-SRC-*/KUBE-DST-*: `stop` removes them (remove_policy_enforcement, ADR 0431).

NODE_NAME=jsm-sso-node
SANDBOX_IMAGE=jsm-sso.local/pause:1

# Called by k8s-envtest.sh before anything starts: checks, addresses, the bridge.
node_prepare() {
  [ "$(id -u)" = 0 ] || die "a node (kubelet, containerd) needs root"
  local b
  for b in containerd containerd-shim-runc-v2 ctr runc ip; do
    command -v "$b" >/dev/null || die "$b is not installed (.ci/run installs containerd, runc, iproute2)"
  done
  for b in bridge host-local portmap loopback; do
    [ -x "/usr/lib/cni/$b" ] || die "/usr/lib/cni/$b missing (apt-get install containernetworking-plugins)"
  done
  for b in iptables ipset pgrep; do
    command -v "$b" >/dev/null || die "$b is not installed (.ci/run installs iptables, ipset, procps)"
  done
  # kube-router's rules are the host's: two at once would each remove the other's (ADR 0431).
  ! pgrep -x kube-router >/dev/null ||
    die "a kube-router runs on this machine (pid $(pgrep -x kube-router | head -n1)), another single-node cluster's: its rules and this one's would undo each other; start when it has stopped"
  [ "$(cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null)" = 1 ] ||
    die "bridged traffic does not pass iptables (net.bridge.bridge-nf-call-iptables): NetworkPolicies would not be enforced"
  for b in kubelet kube-scheduler pause kube-router; do
    [ -x "$TOOLS/$b" ] || die "$TOOLS/$b missing: run JSM_SSO_WITH_NODE=1 bash .ci/k8s-tools.sh"
  done
  [ -f "$TOOLS/pause.oci.tar" ] || die "$TOOLS/pause.oci.tar missing: run JSM_SSO_WITH_NODE=1 bash .ci/k8s-tools.sh"

  # Two /24s no interface uses: the Service range and the pod range (random, so that a leftover
  # from a killed run never collides with the next one).
  local used a b3 tries=0
  used=$(ip -4 -o addr show)
  while :; do
    tries=$((tries + 1)); [ $tries -lt 100 ] || die "no free 10.x.y.0/23 for the node network"
    a=$((96 + RANDOM % 100)); b3=$(((RANDOM % 127) * 2))
    case $used in *" 10.$a.$b3."* | *" 10.$a.$((b3 + 1))."*) continue ;; esac
    break
  done
  SVC_NET=10.$a.$b3.0/24
  SVC_IP=10.$a.$b3.1            # the "kubernetes" Service's ClusterIP
  POD_NET=10.$a.$((b3 + 1)).0/24
  POD_GW=10.$a.$((b3 + 1)).1    # the node's address on the bridge: pods reach the host here
  BRIDGE=jsn$(openssl rand -hex 4)
  # Images unpacked on tmpfs when there is room, like etcd's data: unpacking and removing the
  # image's many small files on disk took half a minute each on a loaded machine.
  CONTAINERD_ROOT=$DIR/containerd/root
  if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR==2{print $4}')" -gt 4194304 ]; then
    CONTAINERD_ROOT=$(mktemp -d /dev/shm/k8s-node-containerd.XXXXXX)
  fi
  printf 'SVC_NET=%s\nSVC_IP=%s\nPOD_NET=%s\nPOD_GW=%s\nBRIDGE=%s\nCONTAINERD_ROOT=%s\n' \
    "$SVC_NET" "$SVC_IP" "$POD_NET" "$POD_GW" "$BRIDGE" "$CONTAINERD_ROOT" >"$DIR/node.env"
  ip link add "$BRIDGE" type bridge
  ip addr add "$POD_GW/24" dev "$BRIDGE"
  ip addr add "$SVC_IP/32" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  log "node network: bridge $BRIDGE, pods $POD_NET (node $POD_GW), Services $SVC_NET (API server at $SVC_IP:443)"
}

# Client certificates (kubelet as its node, kube-apiserver to kubelets), signed by the test CA.
node_pki() {
  client_cert kubelet "system:node:$NODE_NAME" system:nodes
  client_cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
}
client_cert() { # file common-name organisation
  (
    cd "$DIR/pki"
    openssl req -newkey rsa:2048 -nodes -subj "/O=$3/CN=$2" -keyout "$1.key" -out "$1.csr" 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 7 \
      -extfile "$1.ext" -out "$1.crt" 2>/dev/null
  )
  chmod 600 "$DIR/pki/$1.key"
}

# kube-apiserver flags that make it the API server of a cluster with a node (later flags win).
node_apiserver_args() {
  NODE_API_ARGS=(
    --bind-address="$SVC_IP" --secure-port=443 --advertise-address="$SVC_IP"
    --endpoint-reconciler-type=lease
    --service-cluster-ip-range="$SVC_NET"
    --client-ca-file="$DIR/pki/ca.crt"
    --authorization-mode=Node,RBAC
    --enable-admission-plugins=NodeRestriction
    --disable-admission-plugins=
    --kubelet-client-certificate="$DIR/pki/apiserver-kubelet-client.crt"
    --kubelet-client-key="$DIR/pki/apiserver-kubelet-client.key"
    --kubelet-preferred-address-types=InternalIP
  )
}

node_kcm_args() {
  NODE_KCM_ARGS=(
    # Deployments, ReplicaSets, EndpointSlices, ServiceAccounts, garbage collection... as a cluster.
    --controllers='*'
    # kube-root-ca.crt in every namespace: the CA pods verify the API server with.
    --root-ca-file="$DIR/pki/ca.crt"
    --service-account-private-key-file="$DIR/pki/sa.key"
  )
}

node_cert_sans() { printf ',IP:%s,IP:%s' "$SVC_IP" "$POD_GW"; }

write_containerd_config() {
  local c=$DIR/containerd
  mkdir -p "$c" "$DIR/cni/net.d"
  cat >"$c/config.toml" <<EOF
version = 2
root = "$CONTAINERD_ROOT"
state = "$c/state"
[grpc]
  address = "$c/containerd.sock"
[ttrpc]
  address = "$c/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$c/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$SANDBOX_IMAGE"
  # This machine may not lower oom_score_adj (runc would fail every container that asks).
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$DIR/cni/net.d"
EOF
  cat >"$DIR/cni/net.d/10-jsm-sso.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "jsm-sso",
  "plugins": [
    {
      "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "$POD_NET", "gateway": "$POD_GW" }]],
        "routes": [{ "dst": "0.0.0.0/0" }],
        "dataDir": "$DIR/cni/ipam"
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
}

ctr_sock() { echo "$DIR/containerd/containerd.sock"; }
ctr_k8s() { ctr --address "$(ctr_sock)" --namespace k8s.io "$@"; }

start_containerd() {
  setsid "$(command -v containerd)" --config "$DIR/containerd/config.toml" </dev/null >>"$DIR/containerd.log" 2>&1 &
  echo $! >"$DIR/containerd.pid"
  containerd_ok() { alive containerd; ctr_k8s version; }
  wait_until containerd "$TIMEOUT" containerd_ok
}

stop_containerd() { stop_procs "$DIR" containerd; }

# Imports oci-archives as NAME=PATH words: the pause image, then $K8S_ENVTEST_IMAGES.
import_images() {
  local spec name path
  for spec in "$SANDBOX_IMAGE=$TOOLS/pause.oci.tar" ${K8S_ENVTEST_IMAGES:-}; do
    name=${spec%%=*}; path=${spec#*=}
    [ -f "$path" ] || die "image archive $path (for $name) not found"
    ctr_k8s images import --index-name "$name" "$path" >>"$DIR/containerd.log" 2>&1 ||
      die "ctr images import $path as $name failed"
    log "image $name loaded from $path"
  done
  # Import also names each image import-<date>@<digest>; with those, the CRI finds the sandbox image
  # under the wrong name. Remove them, and restart containerd so that the CRI reads the names again.
  local ref
  for ref in $(ctr_k8s images ls -q | grep '^import-' || true); do ctr_k8s images rm "$ref" >/dev/null; done
  stop_containerd
  start_containerd
}

write_kubelet_config() {
  KUBELET_PORT=$(free_port); used_ports+="$KUBELET_PORT "
  KUBELET_HEALTHZ_PORT=$(free_port); used_ports+="$KUBELET_HEALTHZ_PORT "
  mkdir -p "$DIR/kubelet" "$DIR/pod-logs"
  cat >"$DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $POD_GW
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $DIR/pki/ca.crt }
authorization: { mode: Webhook }
containerRuntimeEndpoint: unix://$(ctr_sock)
podLogsDir: $DIR/pod-logs
resolvConf: /etc/resolv.conf
# This machine: cgroup v1 without systemd, swap allowed, no QoS cgroup tree, no node allocatable
# enforcement, no local-storage accounting, and evictions only when truly out of room.
cgroupDriver: cgroupfs
failSwapOn: false
cgroupsPerQOS: false
enforceNodeAllocatable: []
localStorageCapacityIsolation: false
evictionHard: { memory.available: 1Mi, nodefs.available: 1%, nodefs.inodesFree: 1%, imagefs.available: 1% }
# The imported images cannot be pulled again: never garbage-collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
EOF
  write_client_kubeconfig "$DIR/kubelet.kubeconfig" kubelet
}

# A kubeconfig that authenticates with a client certificate of $DIR/pki.
write_client_kubeconfig() { # path pki-name
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: node
  cluster: { server: $API_URL, certificate-authority: $DIR/pki/ca.crt }
users:
- name: $2
  user: { client-certificate: $DIR/pki/$2.crt, client-key: $DIR/pki/$2.key }
contexts:
- name: node
  context: { cluster: node, user: $2 }
current-context: node
EOF
  chmod 600 "$1"
}

start_node() {
  local t
  t=$(date +%s.%N)
  write_kubeconfig "$DIR/scheduler.kubeconfig"
  setsid "$TOOLS/kube-scheduler" --kubeconfig="$DIR/scheduler.kubeconfig" --leader-elect=false \
    --secure-port=0 </dev/null >"$DIR/kube-scheduler.log" 2>&1 &
  echo $! >"$DIR/kube-scheduler.pid"

  write_containerd_config
  start_containerd
  import_images
  log "containerd ready with images $(secs "$t" "$(date +%s.%N)")s after the control plane"

  write_kubelet_config
  setsid "$TOOLS/kubelet" --config="$DIR/kubelet.yaml" --kubeconfig="$DIR/kubelet.kubeconfig" \
    --root-dir="$DIR/kubelet" --cert-dir="$DIR/kubelet/pki" --hostname-override="$NODE_NAME" \
    --node-ip="$POD_GW" </dev/null >"$DIR/kubelet.log" 2>&1 &
  echo $! >"$DIR/kubelet.pid"
  node_ready() {
    alive kubelet; alive kube-scheduler; alive containerd
    curl -sf -A k8s-envtest --cacert "$DIR/pki/ca.crt" -H "Authorization: Bearer $TOKEN" \
      "$API_URL/api/v1/nodes/$NODE_NAME" | grep -q '"type":"Ready","status":"True"'
  }
  wait_until "node $NODE_NAME Ready" "$TIMEOUT" node_ready
  log "node $NODE_NAME Ready $(secs "$t" "$(date +%s.%N)")s after the control plane"
  start_policy_enforcement
}

# kube-router's firewall: every NetworkPolicy of the cluster enforced on this node's pods, before any
# pod of the tests starts (a pod started earlier would run unfiltered until the first sync).
start_policy_enforcement() {
  remove_policy_enforcement # what a run killed before its stop left
  write_kubeconfig "$DIR/kube-router.kubeconfig"
  setsid "$TOOLS/kube-router" --kubeconfig="$DIR/kube-router.kubeconfig" --hostname-override="$NODE_NAME" \
    --run-firewall=true --run-router=false --run-service-proxy=false --enable-cni=false \
    --service-cluster-ip-range="$SVC_NET" --health-port=0 --metrics-port=0 \
    </dev/null >"$DIR/kube-router.log" 2>&1 &
  echo $! >"$DIR/kube-router.pid"
  # The first full sync writes the chain every pod's traffic is sent through.
  firewall_ready() { alive kube-router; iptables -S KUBE-ROUTER-FORWARD >/dev/null 2>&1; }
  wait_until "kube-router's firewall" "$TIMEOUT" firewall_ready
  log "NetworkPolicies enforced (kube-router $(cat "$TOOLS/.kube-router.stamp" | cut -d' ' -f1))"
}

# kube-router's chains, the jumps to them and its ipsets. Not `kube-router --cleanup-config`: v2.1.0's
# cleans its firewall only in its own bookkeeping (the rules stayed) and then crashes in the service
# proxy's cleanup (a nil pointer, with no IPVS here).
remove_policy_enforcement() {
  local rules chains chain rule set
  rules=$(iptables-save -t filter 2>/dev/null) || return 0
  chains=$(grep -oE '^:KUBE-(ROUTER|NWPLCY|POD-FW)-[A-Z0-9-]+' <<<"$rules" | cut -c2- || true)
  # (grep finds nothing on a clean host: under `set -e -o pipefail` that must not end the script.)
  { grep -E '^-A (INPUT|FORWARD|OUTPUT) .*kube-router netpol' <<<"$rules" || true; } | sed 's/^-A /-D /' |
    while read -r rule; do eval "iptables $rule" 2>/dev/null || true; done
  # Emptied first, then deleted: a chain still jumped to from another cannot be.
  for chain in $chains; do iptables -F "$chain" 2>/dev/null || true; done
  for chain in $chains; do iptables -X "$chain" 2>/dev/null || true; done
  for set in $(ipset list -n 2>/dev/null | grep -E '^(inet6:)?KUBE-(SRC|DST)-'); do
    ipset destroy "$set" 2>/dev/null || true
  done
}

# Everything the node made, in reverse: kubelet (so nothing restarts), the containers, containerd,
# then what outlives processes (mounts, network namespaces, the bridge).
stop_node() { # dir
  local dir=$1
  [ -f "$dir/node.env" ] || return 0
  # shellcheck disable=SC1091
  . "$dir/node.env"
  stop_procs "$dir" kubelet kube-scheduler kube-router
  # Its iptables chains and ipsets outlive it; a kube-router that never started has none to remove.
  [ -f "$dir/kube-router.pid" ] && remove_policy_enforcement
  local sock=$dir/containerd/containerd.sock id netns=""
  if [ -S "$sock" ]; then
    # The network namespaces of our pod sandboxes (their specs name them), before they go.
    for id in $(ctr --address "$sock" -n k8s.io containers ls -q 2>/dev/null); do
      netns+=" $(ctr --address "$sock" -n k8s.io containers info "$id" 2>/dev/null | grep -o '/var/run/netns/cni-[0-9a-f-]*' || true)"
    done
    for id in $(ctr --address "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
      ctr --address "$sock" -n k8s.io tasks delete --force "$id" >/dev/null 2>&1 || true
    done
  fi
  stop_procs "$dir" containerd
  # Shims whose container could not be deleted (their command line names our socket).
  local pid
  for pid in $(grep -lsF -- "$sock" /proc/[0-9]*/cmdline | cut -d/ -f3); do kill -KILL "$pid" 2>/dev/null || true; done
  local ns
  for ns in $(printf '%s\n' $netns | sort -u); do ip netns delete "${ns##*/}" 2>/dev/null || true; done
  # Deepest mounts first (secret volumes, rootfs overlays, shm).
  awk -v d="$dir/" -v r="$CONTAINERD_ROOT/" 'index($5, d) == 1 || index($5, r) == 1 { print $5 }' \
    /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  case $CONTAINERD_ROOT in /dev/shm/k8s-node-containerd.*) rm -rf "$CONTAINERD_ROOT" ;; esac
  ip link delete "$BRIDGE" 2>/dev/null || true
}
