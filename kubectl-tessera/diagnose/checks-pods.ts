// Every Running pod has a bound, ovn-installed port on its node with the IP/MAC of its annotation; no stale ports
// either way; addresses agree between annotation, NB and the watcher's allocator.
import type { V1Pod } from '@kubernetes/client-node';
import { NODE_SUBNET_ANNOTATION, POD_NETWORKS_ANNOTATION, parsePodNetworks, type PodNetwork } from '../../lib/kube/annotations.js';
import { podPort } from '../../lib/ovn/names.js';
import { fail, ok, type CheckResult } from './result.js';
import type { Snapshot } from './snapshot.js';

const id = (p: V1Pod): string => `${p.metadata?.namespace}/${p.metadata?.name}`;
const podNetPods = (s: Snapshot): V1Pod[] => s.pods.filter((p) => !p.spec?.hostNetwork);

function annotation(p: V1Pod): PodNetwork | undefined {
  try {
    return parsePodNetworks(p.metadata?.annotations?.[POD_NETWORKS_ANNOTATION])?.default;
  } catch {
    return undefined;
  }
}

/** One pod's whole chain: annotation → NB port → SB binding on its node → OVS interface with ovn-installed. */
function podChain(s: Snapshot, p: V1Pod): CheckResult {
  const node = p.spec?.nodeName ?? '';
  const name = podPort(p.metadata?.namespace ?? '', p.metadata?.name ?? '');
  const recreate = `delete the pod so its controller recreates it (kubectl delete pod -n ${p.metadata?.namespace} ${p.metadata?.name})`;
  const net = annotation(p);
  const ip = net?.ip_addresses?.[0]?.split('/')[0];
  if (!net || !ip) return fail('pod', id(p), `no valid ${POD_NETWORKS_ANNOTATION} annotation`, `see the pod's Events and tessera.io/pod-network-error; the watcher allocates it`);
  const lsp = s.nb.lsps.find((l) => l.name === name);
  if (!lsp) return fail('pod', id(p), `no logical switch port ${name} in NB`, `the watcher recreates it when it next syncs the pod (restart tessera-watcher), or ${recreate}`);
  const want = `${net.mac_address} ${ip}`;
  if (!lsp.addresses.includes(want)) return fail('pod', id(p), `annotation says ${want}, NB port ${name} has ${lsp.addresses.join(', ') || 'no address'}`, `the annotation was changed by hand or NB drifted: ${recreate}`);
  if (p.status?.podIP && p.status.podIP !== ip) return fail('pod', id(p), `status.podIP ${p.status.podIP} but annotation ${ip}`, `the pod runs with another address than its annotation: ${recreate}`);
  const pb = s.sb.bindings.find((b) => b.logical_port === name);
  const chassis = s.sb.chassis.find((c) => c._uuid === pb?.chassis);
  const iface = s.ovs.find((v) => v.name === node)?.interfaces.find((i) => i.externalIds['iface-id'] === name);
  if (!iface) return fail('pod', id(p), `no OVS port with iface-id=${name} on ${node}`, `the pod's veth is gone from br-int: ${recreate} (CNI ADD creates the port)`);
  if (iface.externalIds.attached_mac && iface.externalIds.attached_mac !== net.mac_address) return fail('pod', id(p), `OVS port ${iface.name} has MAC ${iface.externalIds.attached_mac}, annotation ${net.mac_address}`, recreate);
  if (iface.externalIds['ovn-installed'] !== 'true') return fail('pod', id(p), `OVS port ${iface.name} not ovn-installed`, `ovn-controller on ${node} has not installed its flows: check it (diagnose's node rows)`);
  if (!chassis || (chassis.hostname !== node && chassis.name !== node)) return fail('pod', id(p), `port ${name} bound to ${chassis?.name ?? 'no chassis'}, pod runs on ${node}`, `ovn-controller on ${node} must claim it: check it is connected to SB`);
  return ok('pod', id(p), `${ip} ${net.mac_address} on ${node}, bound and ovn-installed (${iface.name})`);
}

export function podChecks(s: Snapshot): CheckResult[] {
  const running = podNetPods(s).filter((p) => p.status?.phase === 'Running');
  return running.map((p) => podChain(s, p));
}

export function staleChecks(s: Snapshot): CheckResult[] {
  const out: CheckResult[] = [];
  const pods = new Set(s.pods.map((p) => podPort(p.metadata?.namespace ?? '', p.metadata?.name ?? '')));
  for (const l of s.nb.lsps) {
    if (l.external_ids['tessera.io/kind'] !== 'pod' || pods.has(l.name)) continue;
    out.push(fail('stale', `lsp ${l.name}`, 'switch port of a pod that does not exist', `the watcher removes it on its next resync; by hand: kubectl tessera nbctl lsp-del ${l.name}`));
  }
  const lspNames = new Set(s.nb.lsps.map((l) => l.name));
  for (const v of s.ovs) {
    for (const i of v.interfaces) {
      const ifaceId = i.externalIds['iface-id'];
      if (!ifaceId || lspNames.has(ifaceId)) continue;
      out.push(fail('stale', `ovs ${v.name}/${i.name}`, `OVS port with iface-id=${ifaceId}, which has no switch port`,
        `the pod's switch port is gone: if the pod exists, delete it to recreate it; else kubectl tessera vsctl ${v.name} del-port br-int ${i.name} (the agent's reconcile removes orphans)`));
    }
  }
  if (out.length === 0) out.push(ok('stale', 'ports', `${s.nb.lsps.length} switch ports, ${s.ovs.reduce((n, v) => n + v.interfaces.length, 0)} OVS interfaces: none stale`));
  return out;
}
