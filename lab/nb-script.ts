// "Script logic" for the NB side: what the watcher does, done by the lab itself with ovn-nbctl, until the real
// watcher runs in the lab. Names come from lib/ovn/names.ts so both paths build the same topology.
import { CLUSTER_ROUTER, OWNER_KEY, macFromIPv4, nodeRouterPort, nodeSwitch, nodeSwitchRouterPort, podPort } from '../lib/ovn/names.js';
import { nbctl, type Central } from './ovn-central.js';

/** Owner tag on NB rows the lab's script logic creates (the watcher uses its own). */
export const LAB_OWNER = 'tessera-lab';
const owner = `external_ids:"${OWNER_KEY}"=${LAB_OWNER}`;

export async function scriptClusterRouter(c: Central): Promise<void> {
  await nbctl(c, ['--may-exist', 'lr-add', CLUSTER_ROUTER, '--', 'set', 'Logical_Router', CLUSTER_ROUTER, owner]);
}

/** Node switch with its subnet, joined to the cluster router through rtos-/stor- ports (gateway = .1). */
export async function scriptNodeSwitch(c: Central, node: string, subnet: string, gatewayIp: string): Promise<void> {
  const ls = nodeSwitch(node);
  const lrp = nodeRouterPort(node);
  const lsp = nodeSwitchRouterPort(node);
  const plen = subnet.split('/')[1];
  await nbctl(c, [
    '--may-exist', 'ls-add', ls, '--', 'set', 'Logical_Switch', ls, `other_config:subnet=${subnet}`, owner,
    '--', '--may-exist', 'lrp-add', CLUSTER_ROUTER, lrp, macFromIPv4(gatewayIp), `${gatewayIp}/${plen}`,
    '--', 'set', 'Logical_Router_Port', lrp, owner,
    '--', '--may-exist', 'lsp-add', ls, lsp, '--', 'lsp-set-type', lsp, 'router', '--', 'lsp-set-addresses', lsp, 'router',
    '--', 'lsp-set-options', lsp, `router-port=${lrp}`, '--', 'set', 'Logical_Switch_Port', lsp, owner,
  ]);
}

export async function scriptPodPort(c: Central, o: { node: string; namespace: string; pod: string; ip: string; mac: string }): Promise<void> {
  const lsp = podPort(o.namespace, o.pod);
  const addr = `${o.mac} ${o.ip}`;
  await nbctl(c, ['--may-exist', 'lsp-add', nodeSwitch(o.node), lsp, '--', 'lsp-set-addresses', lsp, addr,
    '--', 'lsp-set-port-security', lsp, addr, '--', 'set', 'Logical_Switch_Port', lsp, owner,
    `external_ids:namespace=${o.namespace}`, `external_ids:pod=${o.pod}`]);
}

/** A ClusterIP service as an OVN load balancer on every node switch. */
export async function scriptServiceLb(c: Central, o: { name: string; vip: string; port: number; backends: string[]; nodes: string[] }): Promise<void> {
  await nbctl(c, ['--may-exist', 'lb-add', o.name, `${o.vip}:${o.port}`, o.backends.join(','), 'tcp',
    '--', 'set', 'Load_Balancer', o.name, owner]);
  for (const n of o.nodes) await nbctl(c, ['--may-exist', 'ls-lb-add', nodeSwitch(n), o.name]);
}
