// The pod interface of a nested pod on a VM kernel without 802.1Q support (no CONFIG_VLAN_8021Q, e.g. this lab's):
// a veth pair, the pod end configured as usual, the VM end carrying tc programs that push the pod's VLAN id towards
// the parent NIC, while one program on the parent pops it for the pod whose id it is (lib/netdev/vlan-bpf.ts). The
// frames on the wire are the same 802.1Q frames a VLAN link sends. The VM end's alias records the id and parent,
// so the parent's program is rebuilt from the links alone, after an agent restart too.
import { attachIngress, demuxProgram, pushProgram } from '../../lib/netdev/vlan-bpf.js';
import { NetdevError, type LinkInfo, type NodeNetdev } from '../../lib/netdev/index.js';
import type { VlanPodSpec } from './vlan-link.js';

const ALIAS_PREFIX = 'tessera-vlan ';
const EEXIST = 17;

/** "tessera-vlan 101 eth0" → { vid: 101, parent: 'eth0' }. */
export function parseAlias(alias: string | undefined): { vid: number; parent: string } | undefined {
  const m = alias?.startsWith(ALIAS_PREFIX) ? /^(\d{1,4}) (\S+)$/.exec(alias.slice(ALIAS_PREFIX.length)) : null;
  return m ? { vid: Number(m[1]), parent: m[2] } : undefined;
}

/** The VM ends of the pods on `parent`, with their VLAN ids. */
export function bpfPods(netdev: NodeNetdev, parent: string): { vid: number; index: number; name: string }[] {
  const out: { vid: number; index: number; name: string }[] = [];
  for (const l of netdev.rtnl.listLinks()) {
    const a = parseAlias(l.alias);
    if (a && a.parent === parent) out.push({ vid: a.vid, index: l.index, name: l.name });
  }
  return out;
}

/** Rebuilds the parent's demux program from the pods' VM ends. */
export function refreshDemux(netdev: NodeNetdev, parent: LinkInfo): void {
  attachIngress(netdev.rtnl, parent.index, parent.name, demuxProgram(bpfPods(netdev, parent.name)), 'tessera_vdemux');
}

export function setupBpfPod(netdev: NodeNetdev, s: VlanPodSpec, hostName: string): void {
  const taken = bpfPods(netdev, s.parent.name).find((p) => p.vid === s.vlanId && p.name !== hostName);
  if (taken) throw new NetdevError(`VLAN ${s.vlanId} on ${s.parent.name}: already used by ${taken.name}`, EEXIST);
  if (netdev.hostLink(hostName)) netdev.deleteHostVeth(hostName); // an earlier, interrupted ADD of this attachment
  netdev.setupPod({
    netnsPath: s.netnsPath, netnsFd: s.netnsFd, hostName, ifname: s.ifname, mac: s.mac, mtu: s.mtu,
    addresses: s.addresses, routes: s.routes, txChecksumOff: true,
  });
  try {
    const host = netdev.rtnl.mustGetLink(hostName);
    netdev.rtnl.setLink(host.index, `labelling ${hostName}`, { alias: `${ALIAS_PREFIX}${s.vlanId} ${s.parent.name}` });
    attachIngress(netdev.rtnl, host.index, hostName, pushProgram(s.vlanId, s.parent.index), 'tessera_vpush');
    refreshDemux(netdev, s.parent);
  } catch (err) {
    try {
      removeBpfPod(netdev, hostName, s.parent);
    } catch {
      // the original error matters more
    }
    throw err;
  }
}

/** Removes the VM end (the pod end goes with it) and drops it from the parent's program; false if it was gone. */
export function removeBpfPod(netdev: NodeNetdev, hostName: string, parent: LinkInfo | undefined): boolean {
  const removed = netdev.deleteHostVeth(hostName);
  if (parent) refreshDemux(netdev, parent);
  return removed;
}
