// The pod interface of a nested pod: a VLAN link on the VM's NIC, created straight inside the pod netns with its
// final name, MAC and MTU (the parent stays in the VM's netns), then its addresses and routes. It needs no host-side
// leftover: the link lives in the pod netns only, and goes with it.
import { NetdevError, RtnlSocket, withNetnsFd, IFF_UP, type LinkInfo, type NodeNetdev } from '../../lib/netdev/index.js';

export interface VlanPodSpec {
  netnsPath: string;
  netnsFd: number;
  parent: LinkInfo;
  vlanId: number;
  ifname: string;
  mac: string;
  mtu: number;
  addresses: string[];
  routes: { dst: string; gw?: string }[];
}

/** The parent NIC, which must exist; its MTU is the pods' (the VLAN header rides inside the frame). */
export function parentLink(netdev: NodeNetdev, name: string): LinkInfo {
  const l = netdev.hostLink(name);
  if (!l) throw new NetdevError(`looking up the nested parent interface ${name}`, 19 /* ENODEV */);
  return l;
}

/** Creates and configures the VLAN link; on failure removes it again and rethrows. */
export function setupVlanPod(netdev: NodeNetdev, s: VlanPodSpec): void {
  netdev.rtnl.createVlan({ parentIndex: s.parent.index, vlanId: s.vlanId, name: s.ifname, netnsFd: s.netnsFd, mtu: s.mtu, mac: s.mac });
  try {
    inPod(s.netnsFd, s.netnsPath, (pod) => {
      const link = pod.mustGetLink(s.ifname);
      const lo = pod.getLink('lo');
      if (lo && !(lo.flags & IFF_UP)) pod.setLink(lo.index, 'setting lo up in the pod', { up: true });
      for (const a of s.addresses) pod.addAddress(link.index, a, s.ifname);
      pod.setLink(link.index, `setting ${s.ifname} up in the pod`, { up: true });
      for (const r of s.routes) pod.replaceRoute({ dst: r.dst, gateway: r.gw, oif: link.index }, s.ifname);
    });
  } catch (err) {
    try {
      inPod(s.netnsFd, s.netnsPath, (pod) => pod.deleteLink(s.ifname));
    } catch {
      // the original error matters more
    }
    throw err;
  }
}

/**
 * Removes the pod's VLAN link if it is one on this parent; returns what it found. A link of that name of another
 * kind (or on another parent) is not ours and stays.
 */
export function removeVlanPod(netnsFd: number, netnsPath: string, ifname: string, parentIndex: number | undefined): 'removed' | 'absent' | 'foreign' {
  return inPod(netnsFd, netnsPath, (pod) => {
    const l = pod.getLink(ifname);
    if (!l) return 'absent';
    if (!isOurVlan(l, parentIndex)) return 'foreign';
    pod.deleteLink(ifname);
    return 'removed';
  });
}

export function isOurVlan(l: LinkInfo, parentIndex: number | undefined): boolean {
  return l.kind === 'vlan' && l.vlanId !== undefined && (parentIndex === undefined || l.peerIndex === parentIndex);
}

function inPod<T>(fd: number, label: string, fn: (pod: RtnlSocket) => T): T {
  const sock = withNetnsFd(fd, label, () => RtnlSocket.open());
  try {
    return fn(sock);
  } finally {
    sock.close();
  }
}
