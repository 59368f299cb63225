// A lab "VM": a netns whose eth0 is bound to a Neutron port. The port's MAC and the IP Neutron assigned go on
// eth0; the host end of the veth joins the hypervisor node's br-int with iface-id = the port id, so the node's
// ovn-controller claims the Neutron port exactly as it would a Nova instance's tap. Its eth0 takes the MTU Neutron
// gives the network (what Nova's DHCP hands an instance): an L2 neighbour at another MTU silently loses the
// full-size frames the other sends. The VM runs the demo TCP server, listening before plugVm returns.
import { join } from 'node:path';
import type { NeutronPort } from '../../lib/neutron/types.js';
import { run } from '../exec.js';
import { addNetns, addVeth, txOff } from '../netns.js';
import { vsctl, type OvsNode } from '../ovs-node.js';
import { startDemoServer } from '../demo-server.js';
import { waitFor } from '../wait.js';

export interface LabVm {
  name: string;
  netns: string;
  /** The hypervisor node (OVS chassis) it is plugged into. */
  node: string;
  portId: string;
  ip: string;
  mac: string;
  network: string;
}

/** Host-side veth name: unique per VM and within IFNAMSIZ. */
const hostIface = (portId: string): string => `tap${portId.slice(0, 11)}`;

/** The MTU of a lab VM's eth0 when the caller does not pass its network's. */
const DEFAULT_VM_MTU = 1400;

export async function plugVm(o: {
  name: string; netns: string; node: OvsNode; port: NeutronPort; prefixLen: number; gateway: string | null; runDir: string;
  /** The Neutron network's MTU (its `mtu` field). */
  mtu?: number;
}): Promise<LabVm> {
  const ip = o.port.fixed_ips[0]?.ip_address;
  if (!ip) throw new Error(`Neutron port ${o.port.id} has no fixed IP`);
  const host = hostIface(o.port.id);
  await addNetns(o.netns);
  await addVeth({ netns: o.node.netns, name: host }, { netns: o.netns, name: 'eth0' }, o.mtu ?? DEFAULT_VM_MTU);
  await txOff(o.node.netns, host);
  await txOff(o.netns, 'eth0');
  await run('ip', ['-n', o.netns, 'link', 'set', 'eth0', 'down']);
  await run('ip', ['-n', o.netns, 'link', 'set', 'eth0', 'address', o.port.mac_address]);
  await run('ip', ['-n', o.netns, 'link', 'set', 'eth0', 'up']);
  await run('ip', ['-n', o.netns, 'addr', 'add', `${ip}/${o.prefixLen}`, 'dev', 'eth0']);
  if (o.gateway) await run('ip', ['-n', o.netns, 'route', 'add', 'default', 'via', o.gateway]);
  await vsctl(o.node, ['add-port', 'br-int', host, '--', 'set', 'Interface', host, `external_ids:iface-id=${o.port.id}`,
    'external_ids:attached-mac=' + o.port.mac_address, `external_ids:vm-id=${o.name}`]);
  await waitFor(`${o.name}'s port bound by ${o.node.name}`, async () =>
    (await vsctl(o.node, ['--if-exists', 'get', 'Interface', host, 'external_ids:ovn-installed'])) === '"true"', 30_000);
  await startDemoServer({ dir: join(o.runDir, 'vms', o.name), netns: o.netns, name: `vm/${o.name}` });
  return { name: o.name, netns: o.netns, node: o.node.name, portId: o.port.id, ip, mac: o.port.mac_address, network: o.port.network_id };
}
