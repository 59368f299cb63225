// OpenFlow rules of the external bridge (pure, unit-tested). In shared-NIC mode one NIC carries both the host's own
// traffic and the gateway router's, and both use the same IP and MAC. The bridge tells them apart:
//  - everything the GR sends (from the patch port) is committed to conntrack zone CT_ZONE and goes out the NIC;
//  - from the NIC, ARP goes to both the host and the GR (each may need the reply), node ports and external VIPs go to
//    the GR, and other IP traffic is looked up in CT_ZONE: replies to the GR's connections (+est/+rel) go to the GR,
//    everything else (the host's own connections, ssh, the kubelet...) goes to the host (LOCAL);
//  - the host's traffic goes out the NIC untouched.
// Dedicated-NIC mode carries no host traffic: the bridge is a plain learning switch (NORMAL).
import type { ExternalEntry } from './services.js';

export const CT_ZONE = 64000;
/** Cookie on every flow the gateway installs, so an operator can tell them apart in dump-flows. */
export const COOKIE = '0x7e55e7a';

/** Geneve and VXLAN. */
export const TUNNEL_PORTS = [6081, 4789];

export interface BridgeFlowInput {
  mode: 'dedicated' | 'shared';
  nicOfport: number;
  /** ovn-controller's patch port to br-int (absent until the localnet port is bound). */
  patchOfport?: number;
  hostIp: string;
  external: ExternalEntry;
  /** Default-Vpc Subnets without natOutgoing: their pods' own addresses come back from outside to the GR. */
  routedCidrs?: string[];
}

export function bridgeFlows(i: BridgeFlowInput): string[] {
  const f = (s: string): string => `cookie=${COOKIE},${s}`;
  if (i.mode === 'dedicated') return [f('table=0,priority=0,actions=NORMAL')];
  const nic = i.nicOfport;
  const out = [
    f(`table=0,priority=10,in_port=${nic},actions=LOCAL`),
    f(`table=0,priority=10,in_port=LOCAL,actions=output:${nic}`),
    f('table=0,priority=0,actions=drop'),
  ];
  const patch = i.patchOfport;
  if (patch === undefined) return out;
  out.push(
    f(`table=0,priority=100,in_port=${patch},ip,actions=ct(commit,zone=${CT_ZONE}),output:${nic}`),
    f(`table=0,priority=10,in_port=${patch},actions=output:${nic}`),
    f(`table=0,priority=100,in_port=${nic},arp,actions=LOCAL,output:${patch}`),
    f(`table=0,priority=50,in_port=${nic},ip,actions=ct(zone=${CT_ZONE},table=1)`),
    f(`table=1,priority=100,ct_state=+trk+est,ip,actions=output:${patch}`),
    f(`table=1,priority=100,ct_state=+trk+rel,ip,actions=output:${patch}`),
    f('table=1,priority=0,actions=LOCAL'),
  );
  // Overlay tunnels to this node skip the conntrack lookup: they are the host's, and OVS 3.1's userspace
  // conntrack asserts (vswitchd dies) when a decapsulated packet meets the NAT entries of OVN's zones after the
  // outer packet went through ct() here.
  for (const port of TUNNEL_PORTS) {
    out.push(f(`table=0,priority=95,in_port=${nic},udp,nw_dst=${i.hostIp},tp_dst=${port},actions=LOCAL`));
  }
  for (const np of i.external.nodePorts) {
    out.push(f(`table=0,priority=90,in_port=${nic},${np.protocol},nw_dst=${i.hostIp},tp_dst=${np.port},actions=output:${patch}`));
  }
  for (const cidr of i.routedCidrs ?? []) {
    out.push(f(`table=0,priority=90,in_port=${nic},ip,nw_dst=${cidr},actions=output:${patch}`));
  }
  for (const vip of i.external.vips) {
    if (vip === i.hostIp) continue;
    out.push(f(`table=0,priority=90,in_port=${nic},ip,nw_dst=${vip},actions=output:${patch}`));
  }
  return out;
}
