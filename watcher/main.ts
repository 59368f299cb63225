// tessera-watcher: `master-init` alone, or (no subcommand) master-init then the controllers, while
// holding the leader Lease. Losing leadership exits, so a restarted replica starts from a clean slate.
import os from 'node:os';
import { parseCommand, runMain } from '../lib/cli.js';
import { createLogger } from '../lib/log.js';
import { OvsdbClient } from '../lib/ovsdb/index.js';
import { NB_MODEL } from '../lib/ovsdb/models/nb.js';
import { loadKubeConfig, makeClients } from '../lib/kube/client.js';
import { LeaderElector } from '../lib/kube/leader-election.js';
import { WATCHER_SPEC, loadConfig } from './config.js';
import { withConfigFile } from '../lib/config-file.js';
import { WatcherInformers, KubeWriter } from './informers.js';
import { Watcher } from './watcher.js';
import { masterInit, WATCHED_TABLES } from './master-init.js';
import { keyOf } from './kube-view.js';
import { startInterconnectController, type InterconnectController } from './interconnect/index.js';
import { startWatcherHealth } from './health.js';
import { instrumentOvsdb, newRegistry } from '../lib/metrics.js';
import { WatcherMetrics } from './metrics.js';
import { VpcKube } from './vpc/index.js';
import { useNeutronPorts } from './neutron-ports/index.js';

runMain(WATCHER_SPEC.name, async () => {
  const config = loadConfig(parseCommand(WATCHER_SPEC, withConfigFile(WATCHER_SPEC, 'watcher', process.argv.slice(2))));
  const log = createLogger('watcher', { file: config.logFile });
  const nb = await OvsdbClient.connect(NB_MODEL, { remotes: config.nbRemotes, tls: config.tls, logger: log });
  await nb.monitor([...WATCHED_TABLES]);
  log.info(`pods reach these only where a NetworkPolicy allows it: ${config.protectedEndpoints.map((e) => (e.family === 6 ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`)).join(' ') || 'none'}`
    + `; on every node IP and management IP: ${config.protectedNodePorts.join(' ') || 'none'}`);

  if (config.subcommand === 'master-init') {
    const n = await masterInit(nb, config);
    log.info(`master-init: ${n ? `${n} operations written` : 'already in place'}`);
    nb.close();
    return;
  }

  const kubeConfig = loadKubeConfig({ server: config.kubeApi, tokenFile: config.kubeTokenFile, kubeconfig: config.kubeconfig });
  const clients = makeClients(kubeConfig);
  const informers = new WatcherInformers(clients, log);
  const writer = new KubeWriter(clients, 'tessera-watcher', config.apiConnections);
  const registry = newRegistry();
  instrumentOvsdb(registry, 'nb', nb);
  const metrics = new WatcherMetrics(registry);
  const watcher = new Watcher(config, nb, informers.stores, writer, log, metrics);
  const vpcKube = new VpcKube(clients, log, (plural, name) => watcher.vpc?.changed(plural, name));
  watcher.useVpc(vpcKube);
  if (config.neutron) useNeutronPorts(watcher, config.neutron, clients.core);
  informers.register({
    nodes: { changed: (n) => watcher.nodeChanged(keyOf(n)) },
    pods: { changed: (p, old, del) => watcher.podChanged(p, old, del) },
    namespaces: { changed: (n, old, del) => watcher.namespaceChanged(n, old, del) },
    services: { changed: (s) => watcher.serviceChanged(keyOf(s)) },
    endpointSlices: {
      changed: (s) => {
        const svc = s.metadata?.labels?.['kubernetes.io/service-name'];
        if (svc) watcher.serviceChanged(`${s.metadata?.namespace ?? ''}/${svc}`);
      },
    },
    policies: { changed: (p) => watcher.policyChanged(keyOf(p)) },
  });
  nb.on('change', (ev) => watcher.nbChanged(ev));

  let leading = !config.leaderElection;
  let ready = false;
  const { ctx } = watcher;
  metrics.observe({
    leading: () => leading,
    queueDepths: () => {
      const q = watcher.queues; // labelled as the sync metrics are
      return { node: q.nodes.length, pod: q.pods.length, service: q.services.length, networkpolicy: q.policies.length };
    },
    ipam: () => ctx.ipam.usage(),
    nodeSubnets: () => ({ used: ctx.subnets.nodes().length, free: ctx.subnets.capacity - ctx.subnets.nodes().length }),
  });
  if (config.healthListen) {
    startWatcherHealth(config.healthListen, {
      leading: () => leading,
      nbConnected: () => nb.connected,
      informersSynced: () => informers.hasSynced,
      started: () => ready,
      stats: () => watcher.stats(),
    }, registry);
  }

  let interconnect: InterconnectController | undefined;
  const run = async (): Promise<void> => {
    await informers.start();
    await vpcKube.start();
    const open = await writer.preconnect();
    log.info(`API connections for annotations: ${open}/${config.apiConnections} open`);
    await watcher.start();
    // Only the leader runs OVN-IC: it owns the cluster's ovn-ic daemon and the ts attachment.
    if (config.sbRemotes?.length) {
      interconnect = await startInterconnectController({
        kube: kubeConfig,
        nbRemotes: config.nbRemotes,
        sbRemotes: config.sbRemotes,
        runDir: config.runDir,
        ovnIc: config.ovnIc,
        tls: config.tls,
        logger: log,
      });
    }
    ready = true;
    // A lost NB connection or watch may have hidden changes: converge again (events are replayed too).
    nb.on('resynced', () => void watcher.reconcile('ovsdb reconnect'));
    let restarts = informers.restarts;
    setInterval(() => {
      if (informers.restarts !== restarts) {
        restarts = informers.restarts;
        void watcher.reconcile('informer relist');
      }
    }, 1000).unref();
    setInterval(() => void watcher.reconcile('periodic'), 10 * 60_000).unref();
  };

  let elector: LeaderElector | undefined;
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    watcher.stop();
    // Stops the managed ovn-ic but leaves the interconnection in place: the next leader adopts it.
    await interconnect?.stop().catch(() => {});
    await elector?.stop().catch(() => {});
    await informers.stop().catch(() => {});
    await vpcKube.stop().catch(() => {});
    nb.close();
    process.exit(code);
  };
  process.on('SIGTERM', () => void shutdown(0));
  process.on('SIGINT', () => void shutdown(0));

  if (!config.leaderElection) {
    await run();
    return;
  }
  elector = new LeaderElector({
    api: clients.coordination,
    namespace: config.leaseNamespace,
    name: config.leaseName,
    identity: config.identity ?? `${os.hostname()}_${process.pid}`,
    leaseDurationMs: config.leaseDurationSeconds * 1000,
    renewDeadlineMs: Math.round((config.leaseDurationSeconds * 2000) / 3),
    retryPeriodMs: Math.round((config.leaseDurationSeconds * 1000) / 7.5),
    logger: log,
    onStartedLeading: async () => {
      leading = true;
      log.info('became leader; starting controllers');
      await run();
    },
    onStoppedLeading: () => {
      if (!leading) return;
      log.warn('lost leadership; exiting so only the leader writes');
      void shutdown(1);
    },
    onNewLeader: (id) => log.info(`leader is ${id}`),
  });
  elector.start();
});
