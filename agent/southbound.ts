// The Southbound database the node's ovn-controller uses (Open_vSwitch external_ids:ovn-remote), which the agent
// reads and never writes: the patch flow watchdog's Port_Bindings and the owner of a Neutron port a pod names.
import type { TlsOptions } from '../lib/ovsdb/index.js';
import type { VswitchClient } from './ovs-ports.js';

/** ovn-controller's SB remotes, or why the agent cannot use them. */
export function southboundRemotes(ovs: VswitchClient, tls: TlsOptions | undefined): { remotes: string[] } | { why: string } {
  const remote = ovs.cache.list('Open_vSwitch')[0]?.external_ids['ovn-remote'];
  if (!remote) return { why: 'no external_ids:ovn-remote in Open_vSwitch' };
  const remotes = remote.split(',');
  if (!tls && remotes.some((r) => r.trim().startsWith('ssl:'))) {
    return { why: `ovn-remote ${remote} is ssl: but the agent has no --ovsdb-private-key/--ovsdb-certificate/--ovsdb-ca-cert` };
  }
  return { remotes };
}
