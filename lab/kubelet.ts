// The lab kubelet: `node --import tsx lab/kubelet.ts --config FILE` (the lab starts it, kubelet-step.ts). What
// kubelet does that the lab's own steps do not: it runs the Pods of the Tessera image that are scheduled
// (spec.nodeName) to lab nodes (kubelet-pods.ts), serves their exec on a unix socket for the API server's pods/exec
// proxy (kubelet-exec.ts), and writes their services' EndpointSlices (kubelet-endpoints.ts). It follows the API with a
// list every 250 ms (a resync loop, no watch), and on SIGTERM removes every pod it runs.
import http from 'node:http';
import { readFileSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UnixKubeClient } from '../kube-double/unix-client.js';
import type { KubeletConfig } from './kubelet-config.js';
import { reconcileSlices } from './kubelet-endpoints.js';
import { handleExec } from './kubelet-exec.js';
import { isOurs, PodRuntime, type PodObject } from './kubelet-pods.js';

const POLL_MS = 250;
const log = (m: string): void => void process.stderr.write(`${new Date().toISOString()} ${m}\n`);

const { values } = parseArgs({ options: { config: { type: 'string' } } });
if (!values.config) throw new Error('usage: lab/kubelet.ts --config FILE');
const cfg = JSON.parse(readFileSync(values.config, 'utf8')) as KubeletConfig;
const kube = new UnixKubeClient(cfg.apiSocket, { token: readFileSync(cfg.tokenFile, 'utf8').trim(), timeoutMs: 10_000 });
const runtime = new PodRuntime(cfg, kube, log);
const nodeNames = cfg.nodes.map((n) => n.name);
const starting = new Map<string, Promise<void>>();

async function sync(): Promise<void> {
  const pods = (await kube.list<PodObject>('/api/v1/pods')).items;
  const ours = pods.filter((p) => isOurs(p, nodeNames));
  const keys = new Set(ours.map((p) => `${p.metadata.namespace}/${p.metadata.name}`));
  for (const p of ours) {
    const key = `${p.metadata.namespace}/${p.metadata.name}`;
    const running = runtime.pods.get(key);
    if (running && running.uid !== p.metadata.uid) await runtime.stop(key);
    if (runtime.pods.has(key) || starting.has(key)) continue;
    log(`pod ${key} on ${p.spec?.nodeName}: starting`);
    starting.set(key, runtime.start(p).catch((e: Error) => log(`pod ${key}: ${e.message}`)).finally(() => starting.delete(key)));
  }
  for (const key of [...runtime.pods.keys()]) {
    if (keys.has(key)) continue;
    await starting.get(key);
    log(`pod ${key}: deleted, stopping`);
    await runtime.stop(key);
  }
  const namespaces = new Set([...runtime.pods.values()].map((r) => r.namespace));
  await reconcileSlices(kube, namespaces, pods);
}

let stopping = false;
async function loop(): Promise<void> {
  while (!stopping) {
    await sync().catch((e: Error) => log(`sync: ${e.message}`));
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

const server = http.createServer((_req, res) => {
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('the lab kubelet serves /exec/ upgrades only\n');
});
server.on('upgrade', (req, socket) => handleExec(runtime, cfg.binDir, req, socket));
rmSync(cfg.socket, { force: true });
server.listen(cfg.socket, () => process.stdout.write(`ready ${cfg.socket}\n`));
void loop();

async function shutdown(): Promise<void> {
  stopping = true;
  await Promise.allSettled([...starting.values()]);
  for (const key of [...runtime.pods.keys()]) await runtime.stop(key);
  server.close();
  rmSync(cfg.socket, { force: true });
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
