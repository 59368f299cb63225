// Lab pods: a netns per pod plus its wiring. Script wiring does what the CNI + agent will do (veth, addresses,
// routes, tx offload off, OVS port with iface-id); the real path hands the netns to tessera-cni through cnitool.
import { createHash } from 'node:crypto';
import { INTEGRATION_BRIDGE, podPort } from '../lib/ovn/names.js';
import type { PodNetwork } from '../lib/kube/annotations.js';
import { run } from './exec.js';
import { addNetns, addVeth, txOff } from './netns.js';
import { ovnInstalled, vsctl, type OvsNode } from './ovs-node.js';
import { waitFor } from './wait.js';

export const POD_IFNAME = 'eth0';

/** Host-side veth name as agreed for the CNI: veth + 11 hex of sha256("<containerId>/<ifname>"). */
export function hostVethName(containerId: string, ifname: string): string {
  return 'veth' + createHash('sha256').update(`${containerId}/${ifname}`).digest('hex').slice(0, 11);
}

/** The container id cnitool uses for a netns path: "cnitool-" + 20 hex of sha512(path). */
export function cnitoolContainerId(netnsPath: string): string {
  return 'cnitool-' + createHash('sha512').update(netnsPath).digest('hex').slice(0, 20);
}

export const netnsPath = (netns: string): string => `/var/run/netns/${netns}`;

export interface LabPodSpec {
  namespace: string;
  name: string;
  node: string;
  labels?: Record<string, string>;
}

export async function createPodNetns(netns: string): Promise<void> {
  await addNetns(netns);
}

/** Wires a pod the way the CNI + agent will: returns the host veth (= OVS interface) name once ovn-installed. */
export async function scriptWirePod(o: { pod: LabPodSpec; netns: string; node: OvsNode; net: PodNetwork; mtu: number; containerId: string; uid: string }): Promise<string> {
  const host = hostVethName(o.containerId, POD_IFNAME);
  const ipCidr = o.net.ip_addresses[0];
  if (!ipCidr) throw new Error(`pod ${o.pod.namespace}/${o.pod.name}: no IP address to wire`);
  await addVeth({ netns: o.node.netns, name: host }, { netns: o.netns, name: POD_IFNAME }, o.mtu);
  await run('ip', ['-n', o.netns, 'link', 'set', POD_IFNAME, 'address', o.net.mac_address]);
  await run('ip', ['-n', o.netns, 'addr', 'add', ipCidr, 'dev', POD_IFNAME]);
  const gw = o.net.gateway_ips[0];
  if (gw) await run('ip', ['-n', o.netns, 'route', 'add', 'default', 'via', gw, 'dev', POD_IFNAME]);
  for (const r of o.net.routes) await run('ip', ['-n', o.netns, 'route', 'replace', r.dest, 'via', r.nextHop, 'dev', POD_IFNAME]);
  await txOff(o.netns, POD_IFNAME);
  await txOff(o.node.netns, host);
  await vsctl(o.node, ['--may-exist', 'add-port', INTEGRATION_BRIDGE, host, '--', 'set', 'Interface', host,
    `external_ids:iface-id=${podPort(o.pod.namespace, o.pod.name)}`, `external_ids:attached_mac=${o.net.mac_address}`,
    `external_ids:ip_addresses=${o.net.ip_addresses.join(',')}`, `external_ids:sandbox=${o.containerId}`,
    `external_ids:iface-id-ver=${o.uid}`, `external_ids:"tessera.io/ifname"=${POD_IFNAME}`]);
  await waitFor(`ovn-installed on ${host} (pod ${o.pod.namespace}/${o.pod.name})`, () => ovnInstalled(o.node, host), 30_000);
  return host;
}
