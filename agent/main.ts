// tessera-agent: node init (management port), the CNI server for the tessera-cni shim, and pod port reconcile.
// Start-up order: sockets to OVS and Kubernetes first (the CNI server answers "not ready" meanwhile), then node
// init, then reconcile. Stopping the agent never touches pod ports: running pods keep their traffic.
// The agent talks to its node's Open_vSwitch database, the Southbound (read only: the patch flow watchdog, a Neutron port's owner) and the
// Kubernetes API; every Northbound row, the management port's LSP included, is the watcher's.
import { dirname } from 'node:path';
import { runMain } from '../lib/cli.js';
import { createLogger } from '../lib/log.js';
import { annotationSubnet } from './node-annotation.js';
import { parseConfig, spec } from './config.js';
import { withConfigFile } from '../lib/config-file.js';
import { kubeViews, startSynced } from './kube.js';
import { subnetLookup } from './subnets.js';
import { connectVswitch, OvsPorts } from './ovs-ports.js';
import { initNode } from './node-init.js';
import { followInterconnLabel } from './ic-gateway.js';
import { startPatchFlowWatchdog } from './patch-flow-watchdog.js';
import { keepTcpSeqCheckOff, vswitchdTarget } from './userspace-conntrack.js';
import { handle, type HandlerDeps } from './cni-handlers.js';
import { KeyedMutex } from './attachment-lock.js';
import { startCniServer } from './cni-server.js';
import { startHealthServer } from './health.js';
import { OvnControllerStatus } from './ovn-controller-status.js';
import { reconcilePorts } from './reconcile.js';
import { PortRepair } from './port-repair.js';
import { loadLibc, NodeNetdev, setNativeDir } from '../lib/netdev/index.js';
import { instrumentOvsdb, newRegistry } from '../lib/metrics.js';
import { CniErrorCode } from '../lib/cni-protocol.js';
import { AgentMetrics } from './metrics.js';
import { runNestedAgent } from './nested/main.js';
import { SouthboundPortBindings } from './neutron-port-owner.js';

runMain('tessera-agent', async () => {
  const cfg = parseConfig(withConfigFile(spec, 'agent', process.argv.slice(2)));
  const log = createLogger('agent', { file: cfg.logFile });
  const views = kubeViews(cfg, log); // first: a bad Kubernetes access config is a ConfigError (exit 2)
  setNativeDir(dirname(cfg.cniSocket));
  await loadLibc();
  const netdev = new NodeNetdev();
  if (cfg.nestedParentIface) return runNestedAgent(cfg, cfg.nestedParentIface, views, netdev, log);

  let nodeInitDone = false;
  let ports: OvsPorts | undefined;
  const inflight = new Set<string>();
  const registry = newRegistry();
  const metrics = new AgentMetrics(registry, () => ports?.podInterfaces().length ?? 0);
  const notReady = (): string | undefined => {
    if (!views.pods.hasSynced) return 'pod informer not synced';
    if (!ports?.ovs.connected) return 'Open_vSwitch database not connected';
    if (!nodeInitDone) return 'node init not done';
    return undefined;
  };

  // The CNI server and health endpoints come up first so that callers get "not ready" instead of ECONNREFUSED.
  let deps: HandlerDeps | undefined;
  const cni = await startCniServer(
    cfg.cniSocket,
    async (req) => {
      if (!deps) return req.command === 'STATUS' || req.command === 'ADD'
        ? { ok: false, code: req.command === 'STATUS' ? CniErrorCode.PluginNotAvailable : CniErrorCode.TryAgainLater, msg: `tessera-agent is not ready: ${notReady() ?? 'starting'}` }
        : { ok: false, code: CniErrorCode.TryAgainLater, msg: 'tessera-agent is starting' };
      return handle(req, deps);
    },
    log,
  );
  // Readiness also needs ovn-controller: without it no new pod gets flows. The CNI server does not ask it
  // (an ADD already waits for ovn-installed, which only a working ovn-controller sets).
  const ovnController = new OvnControllerStatus(cfg.ovnRundir);
  const readyz = async (): Promise<string | undefined> => notReady() ?? (await ovnController.notReady());
  const health = cfg.healthListen ? await startHealthServer(cfg.healthListen.host, cfg.healthListen.port, readyz, registry) : undefined;
  log.info('tessera-agent starting', { node: cfg.nodeName, cniSocket: cfg.cniSocket, health: cfg.healthListen });

  const retry = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    for (let delay = 250; ; delay = Math.min(delay * 2, 10_000)) {
      try {
        return await fn();
      } catch (err) {
        log.warn(`${what} failed, retrying`, { error: (err as Error).message, delayMs: delay });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  };

  const [ovs] = await Promise.all([
    retry('connecting to the Open_vSwitch database', () => connectVswitch(cfg.ovsDb, log, cfg.tls)),
    startSynced(views.pods),
    startSynced(views.node),
    startSynced(views.subnets),
  ]);
  ports = new OvsPorts(ovs);
  instrumentOvsdb(registry, 'ovs', ovs);
  const stopInterconnFlag = followInterconnLabel(cfg.nodeName, views.node, ovs, log);
  const nodeSubnet = (): string | undefined => {
    const node = views.node.get(cfg.nodeName);
    return node ? annotationSubnet(node) : undefined;
  };
  deps = { nodeName: cfg.nodeName, mtu: cfg.mtu, log, pods: views.pods, ports, netdev, notReady, nodeSubnet, inflight, locks: new KeyedMutex(), metrics, subnets: subnetLookup(views.subnets), neutronPorts: cfg.neutronPorts, ...(cfg.neutronPorts ? { portBindings: new SouthboundPortBindings(ovs, cfg.tls, log) } : {}) };
  const p = ports;

  let stopping = false;
  let reconcileTimer: NodeJS.Timeout | undefined;
  let stopWatchdog: (() => void) | undefined;
  const shutdown = async (sig: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info(`${sig}: stopping (pod ports stay in place)`);
    if (reconcileTimer) clearInterval(reconcileTimer);
    stopInterconnFlag();
    stopWatchdog?.();
    cni.close();
    health?.close();
    await Promise.allSettled([views.pods.stop(), views.node.stop(), views.subnets.stop()]);
    ovs.close();
    netdev.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  await initNode({ cfg, views, ports: p, netdev, log, retry });
  nodeInitDone = true;
  log.info('node init done: ready');

  const vswitchd = vswitchdTarget(cfg.ovsDb);
  // The first pass after start is the one a restarted agent pays for before its pods are known good: say how long it took.
  let passes = 0;
  const reconcile = (): void => {
    const t0 = performance.now();
    const first = passes++ === 0;
    reconcilePorts(views.pods, p, netdev, inflight, log).then(
      (r) => {
        metrics.removed(r);
        log[first ? 'info' : 'debug']('reconcile done', { ms: Math.round(performance.now() - t0), kept: r.kept, removedPorts: r.removedPorts.length, removedVeths: r.removedVeths.length });
      },
      (err: Error) => log.warn('reconcile failed', { error: err.message }),
    );
    if (p.isNetdev()) keepTcpSeqCheckOff(vswitchd, log).catch((err: Error) => log.warn('userspace conntrack: could not turn TCP sequence checking off', { error: err.message }));
  };
  reconcile();
  reconcileTimer = setInterval(reconcile, cfg.reconcileIntervalMs);
  const portRepair = new PortRepair(p, netdev, views.pods, inflight, log);
  ovs.on('change', (ev) => portRepair.observe(ev));

  // Not part of readiness: pods work without it; it repairs an OVN bug when a patch port is re-keyed.
  if (cfg.patchFlowCheckMs > 0) {
    retry('starting the patch flow watchdog', () => startPatchFlowWatchdog({ ovs, ovsDb: cfg.ovsDb, tls: cfg.tls, ovnRundir: cfg.ovnRundir, intervalMs: cfg.patchFlowCheckMs, log })).then(
      (stop) => {
        stopWatchdog = stop;
        if (stopping) stop?.();
      },
      () => undefined,
    );
  }
});
