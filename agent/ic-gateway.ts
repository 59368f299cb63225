// Mirrors this node's OVN-IC gateway label (set by the watcher's interconnect controller on the ovn-ic-config
// gw-nodes) into Open_vSwitch external_ids:ovn-is-interconn. ovn-controller copies that flag into its SB Chassis,
// which is the only durable way to make the chassis an interconnection gateway (see lib/ovnic/gateway-flag.ts).
import type { V1Node } from '@kubernetes/client-node';
import type { Logger } from '../lib/log.js';
import { OVS_INTERCONN_KEY, interconnFlagChange } from '../lib/ovnic/gateway-flag.js';
import type { InformerCore as Informer } from '../lib/kube/informer-core.js';
import type { VswitchClient } from './ovs-ports.js';

export async function syncInterconnFlag(node: V1Node | undefined, ovs: VswitchClient): Promise<'set' | 'removed' | undefined> {
  const root = ovs.cache.list('Open_vSwitch')[0];
  if (!node || !root) return undefined;
  const change = interconnFlagChange(node.metadata?.labels, root.external_ids);
  if (!change) return undefined;
  const o = ovs.op;
  // Delete then insert: a map insert never overwrites an existing key.
  const ops = [o.mutate('Open_vSwitch', [['_uuid', '==', root._uuid]], [['external_ids', 'delete', [OVS_INTERCONN_KEY]]])];
  if ('set' in change) ops.push(o.mutate('Open_vSwitch', [['_uuid', '==', root._uuid]], [['external_ids', 'insert', { [OVS_INTERCONN_KEY]: 'true' }]]));
  await ovs.transact(ops);
  return 'set' in change ? 'set' : 'removed';
}

/** Keeps the flag in step with the node's labels; returns a function that stops following them. */
export function followInterconnLabel(nodeName: string, nodes: Informer<V1Node>, ovs: VswitchClient, log: Logger): () => void {
  const sync = (n: V1Node | undefined): void => {
    syncInterconnFlag(n, ovs).then(
      (done) => done && log.info(`OVN-IC gateway flag ${done}`, { node: nodeName }),
      (err: Error) => log.warn('updating the OVN-IC gateway flag failed (retried on the next node or OVS change)', { error: err.message }),
    );
  };
  sync(nodes.get(nodeName));
  const offNode = nodes.on((kind, n) => kind !== 'delete' && n.metadata?.name === nodeName && sync(n));
  const onOvs = (ev: { table: string }): void => {
    if (ev.table === 'Open_vSwitch') sync(nodes.get(nodeName));
  };
  ovs.on('change', onOvs);
  return () => {
    offNode();
    ovs.off('change', onOvs);
  };
}
