// Pod port reconcile: br-int ports whose pod no longer exists on this node (or is another incarnation of it) go,
// with their veth; ports whose pod exists are left untouched (and adopted for port repair). Also removes our veths
// that lost their OVS port, unless port repair is bringing the port back.
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../lib/log.js';
import type { NodeNetdev } from '../lib/netdev/index.js';
import type { InformerCore as Informer } from '../lib/kube/informer-core.js';
import { IFACE_ID_VER, podPortOf, type OvsPorts } from './ovs-ports.js';

const OUR_VETH = /^veth[0-9a-f]{11}$/;

export interface ReconcileResult {
  removedPorts: string[];
  removedVeths: string[];
  kept: number;
}

export async function reconcilePorts(pods: Informer<V1Pod>, ports: OvsPorts, netdev: NodeNetdev, inflight: Set<string>, log: Logger): Promise<ReconcileResult> {
  // A stale or partial pod cache would make live pods look gone: never reconcile from one.
  if (!pods.hasSynced || !pods.healthy) throw new Error('pod informer not synced or down');
  // Likewise the OVS cache: the orphan-veth sweep trusts it to list every port.
  if (!ports.ovs.connected) throw new Error('Open_vSwitch database not connected');
  const stale: string[] = [];
  let kept = 0;
  for (const iface of ports.podInterfaces()) {
    if (inflight.has(iface.name)) continue;
    const id = podPortOf(iface.external_ids);
    const sep = id.indexOf('_'); // namespaces are DNS labels: no '_' in them
    const pod = sep > 0 ? pods.get(id.slice(sep + 1), id.slice(0, sep)) : undefined;
    const ver = iface.external_ids[IFACE_ID_VER];
    if (pod && (!ver || pod.metadata?.uid === ver)) {
      kept++;
      ports.adopt(iface); // port repair restores it if someone else deletes or edits it
      continue;
    }
    stale.push(iface.name);
  }
  const portNames = stale.filter((n) => ports.port(n));
  if (portNames.length) await ports.deletePorts(portNames);
  const removedVeths: string[] = [];
  for (const n of stale) if (netdev.deleteHostVeth(n)) removedVeths.push(n);
  // Veths of ours with no OVS port: an ADD that died between creating the veth and adding the port.
  const known = new Set(ports.ovs.cache.list('Interface').map((i) => i.name));
  for (const l of netdev.rtnl.listLinks()) {
    if (l.kind === 'veth' && OUR_VETH.test(l.name) && !known.has(l.name) && !inflight.has(l.name) && !ports.wanted(l.name)) {
      if (netdev.deleteHostVeth(l.name)) removedVeths.push(l.name);
    }
  }
  if (stale.length || removedVeths.length) log.info('reconcile removed stale pod ports', { ports: portNames, veths: removedVeths, kept });
  return { removedPorts: portNames, removedVeths, kept };
}
