// Which way a nested pod's VLAN interface is made: a kernel VLAN link of the parent NIC (vlan-link.ts), or, when
// the VM's kernel has no 802.1Q driver (creating the link answers EOPNOTSUPP), a veth whose frames tc programs tag
// and untag (vlan-bpf.ts). The first ADD finds out and the choice holds for the process.
import { hostVethName, type AgentRequest } from '../../lib/cni-protocol.js';
import { NetdevError, type LinkInfo } from '../../lib/netdev/index.js';
import type { NestedDeps } from './deps.js';
import { bpfPods, parseAlias, removeBpfPod, setupBpfPod } from './vlan-bpf.js';
import { isOurVlan, removeVlanPod, setupVlanPod, type VlanPodSpec } from './vlan-link.js';

const EOPNOTSUPP = 95;
let kernelVlan: boolean | undefined;

/** Creates the pod interface; returns the driver used. */
export function wirePod(d: NestedDeps, req: AgentRequest, s: VlanPodSpec): 'vlan' | 'bpf' {
  const hostName = hostVethName(req.containerId, req.ifname);
  if (kernelVlan !== false) {
    try {
      setupVlanPod(d.netdev, s);
      kernelVlan = true;
      return 'vlan';
    } catch (err) {
      if (!(err instanceof NetdevError && err.errno === EOPNOTSUPP && kernelVlan === undefined)) throw err;
      kernelVlan = false;
      d.log.warn('the kernel has no 802.1Q VLAN driver: nested pods get a veth tagged by tc programs instead', { parent: s.parent.name, error: err.message });
    }
  }
  setupBpfPod(d.netdev, s, hostName);
  return 'bpf';
}

/** Removes what either driver made for the attachment (in the pod netns, if open, and the VM end); idempotent. */
export function unwirePod(d: NestedDeps, req: AgentRequest, nsFd: number | undefined): { removed: boolean; foreign: boolean } {
  const parent = d.netdev.hostLink(d.parentIface);
  const inPod = nsFd === undefined ? 'absent' : removeVlanPod(nsFd, req.netns, req.ifname, parent?.index);
  const hostName = hostVethName(req.containerId, req.ifname);
  const veth = d.netdev.hostLink(hostName) ? removeBpfPod(d.netdev, hostName, parent) : false;
  return { removed: inPod === 'removed' || veth, foreign: inPod === 'foreign' && !veth };
}

/** The VLAN id the pod interface `link` carries on the parent, or why it is not one of ours. */
export function podVlanOf(d: NestedDeps, req: AgentRequest, link: LinkInfo, parent: LinkInfo): number | string {
  if (link.kind === 'vlan') return isOurVlan(link, parent.index) ? link.vlanId! : `${req.ifname} is a VLAN link of ifindex ${link.peerIndex}, not of ${parent.name}`;
  if (link.kind !== 'veth') return `${req.ifname} is neither a VLAN link of ${parent.name} nor a tagged veth (kind ${link.kind ?? 'none'})`;
  const hostName = hostVethName(req.containerId, req.ifname);
  const host = bpfPods(d.netdev, parent.name).find((p) => p.name === hostName);
  const hl = d.netdev.hostLink(hostName);
  if (!host || !hl) return `VM end ${hostName} of ${req.ifname} is missing or carries no VLAN of ${parent.name}`;
  if (hl.peerIndex !== link.index || link.peerIndex !== hl.index) return `VM end ${hostName} is not the peer of ${req.ifname}`;
  return parseAlias(hl.alias)?.vid ?? host.vid;
}
