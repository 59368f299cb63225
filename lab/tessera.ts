// The real Tessera daemons in the lab: tessera-watcher in the central netns, tessera-agent in each node netns.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TlsOptions } from '../lib/ovsdb/remote.js';
import { alive, spawnDaemon } from './daemon.js';
import { tesseraTlsArgs } from './pki.js';
import { succeeds } from './exec.js';
import { GiveUp, waitFor } from './wait.js';

export interface ClusterCidrs {
  cluster: string;
  service: string;
  join: string;
}

/** Port of the watcher's /healthz and /readyz, on loopback inside the central netns. */
export const WATCHER_HEALTH_PORT = 9477;

export function startWatcher(o: { binDir: string; dir: string; netns: string; apiserverUrl: string; tokenFile: string; nbRemotes: string[]; cidrs: ClusterCidrs; tls?: TlsOptions; extraArgs?: string[] }): number {
  return spawnDaemon({
    dir: o.dir, name: 'tessera-watcher', netns: o.netns, cmd: join(o.binDir, 'tessera-watcher'),
    args: ['--kube-api', o.apiserverUrl, '--kube-token-file', o.tokenFile, '--nb', o.nbRemotes.join(','),
      '--cluster-cidr', o.cidrs.cluster, '--node-subnet-prefix', '24', '--service-cidr', o.cidrs.service, '--join-cidr', o.cidrs.join,
      '--health-listen', `127.0.0.1:${WATCHER_HEALTH_PORT}`, '--log-file', join(o.dir, 'tessera-watcher.file.log'), ...tesseraTlsArgs(o.tls), ...(o.extraArgs ?? [])],
  });
}

/**
 * Port of the agent's /healthz, /readyz and /metrics, on 0.0.0.0 inside its node netns as in deploy/ (each netns has its
 * own); the lab's watcher protects it from pods with --protected-node-port.
 */
export const AGENT_HEALTH_PORT = 9476;

/** True once GET http://host:port/path inside `netns` answers 2xx. */
export function httpOk(netns: string, port: number, path: string, host = '127.0.0.1'): Promise<boolean> {
  return succeeds(process.execPath, ['-e',
    'fetch(process.argv[1], { signal: AbortSignal.timeout(2000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))',
    `http://${host}:${port}${path}`], { netns, timeoutMs: 5_000 });
}

/**
 * Starts the node's agent and waits until it reports ready (informers synced, OVSDB connected, node init done, which
 * includes ovn-controller binding the management port once k8s-<node> exists in NB).
 */
export async function startAgent(o: { binDir: string; node: string; dir: string; netns: string; apiserverUrl: string; tokenFile: string; ovsDbSocket: string; cniSocket: string; mtu: number; cidrs: ClusterCidrs; tls?: TlsOptions }): Promise<number> {
  const pid = spawnDaemon({
    dir: o.dir, name: 'tessera-agent', netns: o.netns, cmd: join(o.binDir, 'tessera-agent'),
    args: ['--node-name', o.node, '--kube-api', o.apiserverUrl, '--kube-token-file', o.tokenFile,
      '--ovs-db', `unix:${o.ovsDbSocket}`, '--cni-socket', o.cniSocket, '--mtu', String(o.mtu),
      '--cluster-cidr', o.cidrs.cluster, '--service-cidr', o.cidrs.service, '--health-listen', `0.0.0.0:${AGENT_HEALTH_PORT}`,
      '--ovn-rundir', dirname(o.ovsDbSocket), '--log-file', join(o.dir, 'tessera-agent.file.log'), ...tesseraTlsArgs(o.tls)],
  });
  await waitFor(`tessera-agent on ${o.node} to be ready (log: ${join(o.dir, 'tessera-agent.log')})`, async () => {
    if (!alive(pid)) throw new GiveUp(`tessera-agent on ${o.node} exited; see ${join(o.dir, 'tessera-agent.log')}`);
    return existsSync(o.cniSocket) && (await httpOk(o.netns, AGENT_HEALTH_PORT, '/readyz'));
  }, 30_000, 200);
  return pid;
}
