#!/bin/sh
# Installs Tessera on the cluster KUBECONFIG points at, or removes it (deploy/README.md):
#   deploy/install.sh [install] [--ovs container|host] [--pki-dir DIR] [--timeout SECONDS] [--no-wait] [--no-validate]
#   deploy/install.sh uninstall [--ovs container|host] [--keep-crds] [--timeout SECONDS] [--no-wait] [--no-validate]
# install applies, in order: CRDs, the OVSDB certificate Secrets (made with ovs-pki when missing), the config,
# RBAC, OVN central, tessera-ovs-ovn (--ovs container), the watcher, the gateway, the agent; then waits until every
# node is Ready with a ready tessera-agent. Running it again upgrades: each DaemonSet/Deployment rolls, one node at a time.
# uninstall removes the workloads, runs deploy/cleanup on every node (CNI config, ports, bridges, routes, state)
# and removes the rest. --no-wait skips the waits (an API server without controllers, e.g. the test double);
# --no-validate skips kubectl's OpenAPI validation (a server without /openapi).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
kubectl=${KUBECTL:-kubectl}
ns=kube-system
action=install
ovs_mode=container
pki_dir=${TESSERA_PKI_DIR:-$HOME/.tessera/pki}
timeout=300
wait=yes
validate=
keep_crds=no

die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "==> $*"; }
while [ $# -gt 0 ]; do
  case $1 in
    install|uninstall) action=$1 ;;
    --ovs) ovs_mode=${2:?--ovs needs container or host}; shift ;;
    --ovs=*) ovs_mode=${1#--ovs=} ;;
    --pki-dir) pki_dir=${2:?--pki-dir needs a directory}; shift ;;
    --timeout) timeout=${2:?--timeout needs seconds}; shift ;;
    --no-wait) wait=no ;;
    --no-validate) validate=--validate=false ;;
    --keep-crds) keep_crds=yes ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (--help)" ;;
  esac
  shift
done
case $ovs_mode in container|host) ;; *) die "--ovs must be container or host, not $ovs_mode" ;; esac
case $timeout in ''|*[!0-9]*) die "--timeout must be whole seconds" ;; esac

apply() { say "apply $*"; "$kubectl" apply $validate "$@"; }
# Every manifest of a component directory, rbac.yaml excepted (applied with the others before any workload).
component() { for f in "$here/$1"/*.yaml; do [ "$(basename "$f")" = rbac.yaml ] || echo "-f $f"; done; }
rollout() {
  [ "$wait" = yes ] || return 0
  say "wait for $1"
  "$kubectl" -n "$ns" rollout status "$1" --timeout="${timeout}s"
}
crd_files() { ls "$here"/crds/*.yaml 2>/dev/null || true; }

ensure_secrets() {
  missing=
  for role in central watcher node; do
    "$kubectl" -n "$ns" get secret "tessera-ovsdb-$role" >/dev/null 2>&1 || missing="$missing $role"
  done
  [ -n "$missing" ] || return 0
  say "OVSDB certificates for:$missing (ovs-pki, CA in $pki_dir)"
  "$here/pki.sh" "$pki_dir"
  for role in $missing; do
    "$kubectl" -n "$ns" create secret generic "tessera-ovsdb-$role" \
      --from-file=privkey.pem="$pki_dir/$role-privkey.pem" --from-file=cert.pem="$pki_dir/$role-cert.pem" \
      --from-file=cacert.pem="$pki_dir/ca/switchca/cacert.pem"
  done
}

wait_nodes() {
  [ "$wait" = yes ] || return 0
  say "wait until every node is Ready with a ready tessera-agent"
  "$kubectl" wait --for=condition=Ready node --all --timeout="${timeout}s"
  deadline=$(( $(date +%s) + timeout ))
  while :; do
    nodes=$("$kubectl" get nodes -o name | wc -l)
    # Nested nodes (VMs, tessera.io/nested=true) run tessera-agent-nested instead.
    plain=$("$kubectl" -n "$ns" get ds tessera-agent -o jsonpath='{.status.numberReady}')
    nested=$("$kubectl" -n "$ns" get ds tessera-agent-nested -o jsonpath='{.status.numberReady}' 2>/dev/null || true)
    ready=$(( ${plain:-0} + ${nested:-0} ))
    [ "${ready:-0}" -ge "$nodes" ] && break
    [ "$(date +%s)" -lt "$deadline" ] || die "only ${ready:-0} of $nodes nodes have a ready tessera-agent"
    sleep 2
  done
  say "Tessera is the network of all $nodes nodes"
}

install() {
  [ -n "$("$kubectl" get nodes -l tessera.io/ovn-central=true -o name)" ] \
    || die "no node is labelled tessera.io/ovn-central=true: label the 1 or 3 nodes of ovn-central-ips (deploy/README.md)"
  crds=$(crd_files)
  if [ -n "$crds" ]; then
    # shellcheck disable=SC2086
    apply $(for f in $crds; do echo "-f $f"; done)
    [ "$wait" = no ] || for f in $crds; do "$kubectl" wait --for=condition=Established -f "$f" --timeout="${timeout}s"; done
  fi
  "$kubectl" get namespace "$ns" >/dev/null
  ensure_secrets
  apply -f "$here/config/"
  # shellcheck disable=SC2046
  apply $(for f in "$here"/*/rbac.yaml; do echo "-f $f"; done)
  # shellcheck disable=SC2046
  apply $(component ovn-central)
  rollout ds/tessera-ovn-central
  if [ "$ovs_mode" = container ]; then
    # shellcheck disable=SC2046
    apply $(component ovs-ovn)
    rollout ds/tessera-ovs-ovn
  fi
  for c in watcher gateway agent; do
    # shellcheck disable=SC2046
    apply $(component "$c")
    case $c in watcher) rollout deployment/tessera-watcher ;; *) rollout "ds/tessera-$c" ;; esac
  done
  wait_nodes
}

gone() {
  [ "$wait" = yes ] || return 0
  say "wait for the $1 pods to go"
  "$kubectl" -n "$ns" wait --for=delete pod -l "app=$1" --timeout="${timeout}s" 2>/dev/null || true
}

cleanup_phase() {
  say "cleanup on every node: $1"
  "$kubectl" -n "$ns" set env ds/tessera-cleanup "PHASE=$1" "OVS_MODE=$ovs_mode" >/dev/null
  rollout ds/tessera-cleanup
}

uninstall() {
  del() { "$kubectl" -n "$ns" delete --ignore-not-found "$@"; }
  # The agents first (no new pods get networks), then what programs NB; pods keep running until the cleanup.
  del ds/tessera-agent ds/tessera-agent-nested ds/tessera-gateway deployment/tessera-watcher
  for a in tessera-agent tessera-agent-nested tessera-gateway tessera-watcher; do gone "$a"; done
  apply -f "$here/cleanup/daemonset.yaml"
  cleanup_phase ports
  del ds/tessera-ovs-ovn ds/tessera-ovn-central
  for a in tessera-ovs-ovn tessera-ovn-central; do gone "$a"; done
  cleanup_phase files
  del -f "$here/cleanup/daemonset.yaml"
  # shellcheck disable=SC2046
  del $(for d in config ovn-central ovs-ovn watcher gateway agent; do component "$d"; done) \
    $(for f in "$here"/*/rbac.yaml; do echo "-f $f"; done)
  del secret tessera-ovsdb-central tessera-ovsdb-watcher tessera-ovsdb-node
  crds=$(crd_files)
  if [ "$keep_crds" = no ] && [ -n "$crds" ]; then
    # shellcheck disable=SC2046
    "$kubectl" delete --ignore-not-found $(for f in $crds; do echo "-f $f"; done)
  fi
  say "Tessera removed; pods created while it ran need to be recreated by the next network plugin"
}

"$action"
