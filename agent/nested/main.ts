// tessera-agent in nested mode (--nested-parent-iface): the node is a VM whose NIC is a logical switch port on a
// hypervisor's br-int, named on the Node by tessera.io/nested-parent-port (the operator's, validated by the
// watcher). No OVS, no ovn-controller, no management port: pods are VLAN links of that NIC, and the watcher makes
// each pod's port a child of the VM's port with the VLAN id it writes in the pod's annotation.
// Ready: the pod informer synced, the Node has its subnet, the parent NIC exists.
import type { Logger } from '../../lib/log.js';
import { CniErrorCode } from '../../lib/cni-protocol.js';
import { newRegistry } from '../../lib/metrics.js';
import type { NodeNetdev } from '../../lib/netdev/index.js';
import { KeyedMutex } from '../attachment-lock.js';
import type { AgentConfig } from '../config.js';
import { handle } from '../cni-handlers.js';
import { startCniServer } from '../cni-server.js';
import { startHealthServer } from '../health.js';
import { startSynced, type KubeViews } from '../kube.js';
import { AgentMetrics } from '../metrics.js';
import { annotationSubnet } from '../node-annotation.js';
import { subnetLookup } from '../subnets.js';
import type { NestedDeps } from './deps.js';

export async function runNestedAgent(cfg: AgentConfig, parentIface: string, views: KubeViews, netdev: NodeNetdev, log: Logger): Promise<void> {
  const registry = newRegistry();
  const metrics = new AgentMetrics(registry, () => 0);
  const nodeSubnet = (): string | undefined => {
    const node = views.node.get(cfg.nodeName);
    return node ? annotationSubnet(node) : undefined;
  };
  const notReady = (): string | undefined => {
    if (!views.pods.hasSynced) return 'pod informer not synced';
    if (!nodeSubnet()) return `node ${cfg.nodeName} has no subnet annotation yet`;
    if (!netdev.hostLink(parentIface)) return `nested parent interface ${parentIface} does not exist`;
    return undefined;
  };
  const deps: NestedDeps = {
    mode: 'nested', nodeName: cfg.nodeName, log, pods: views.pods, netdev, parentIface, notReady, nodeSubnet,
    locks: new KeyedMutex(), subnets: subnetLookup(views.subnets), metrics,
  };
  let started = false;
  const cni = await startCniServer(
    cfg.cniSocket,
    async (req) => started ? handle(req, deps) : { ok: false, code: req.command === 'STATUS' ? CniErrorCode.PluginNotAvailable : CniErrorCode.TryAgainLater, msg: 'tessera-agent is starting' },
    log,
  );
  const health = cfg.healthListen ? await startHealthServer(cfg.healthListen.host, cfg.healthListen.port, notReady, registry) : undefined;
  log.info('tessera-agent starting (nested)', { node: cfg.nodeName, parentIface, cniSocket: cfg.cniSocket, health: cfg.healthListen });
  let stopping = false;
  const shutdown = async (sig: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info(`${sig}: stopping (pod links stay in place)`);
    cni.close();
    health?.close();
    await Promise.allSettled([views.pods.stop(), views.node.stop(), views.subnets.stop()]);
    netdev.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  await Promise.all([startSynced(views.pods), startSynced(views.node), startSynced(views.subnets)]);
  started = true;
  log.info('nested agent serving', { ready: notReady() ?? 'yes' });
}
