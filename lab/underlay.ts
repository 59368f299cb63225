// The lab's "physical network": a Linux bridge inside its own netns, never in the root netns.
import { run } from './exec.js';
import { addNetns, addVeth, txOff } from './netns.js';

export const UNDERLAY_BRIDGE = 'br0';
/** Name of the underlay NIC inside every attached netns. */
export const UNDERLAY_NIC = 'eth1';

export async function createUnderlay(netns: string): Promise<void> {
  await addNetns(netns);
  await run('ip', ['-n', netns, 'link', 'add', UNDERLAY_BRIDGE, 'type', 'bridge']);
  await run('ip', ['-n', netns, 'link', 'set', UNDERLAY_BRIDGE, 'up']);
}

/**
 * Plugs `netns` into the underlay: veth `eth1` there, `ul-<short>` on the bridge. TX offload is off on both
 * ends because kernel TCP (ovn-controller ↔ SB) crosses an AF_PACKET port of a netdev bridge on the node side.
 */
export async function plugUnderlay(underlayNetns: string, netns: string, short: string): Promise<void> {
  const port = `ul-${short}`;
  await addVeth({ netns: underlayNetns, name: port }, { netns, name: UNDERLAY_NIC });
  await run('ip', ['-n', underlayNetns, 'link', 'set', port, 'master', UNDERLAY_BRIDGE]);
  await txOff(underlayNetns, port);
  await txOff(netns, UNDERLAY_NIC);
}
