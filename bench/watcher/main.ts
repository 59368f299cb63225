// bench/watcher: tessera-watcher (child process, from source) against the API test double (in-process)
// and a real NB ovsdb-server (temp dir). Measures, in one run:
//   - 1,000 pods created in one burst over 10 nodes: create → annotated latency p50/p99, burst wall time;
//   - service programming latency for a service with 100 endpoints (create → LB row with 100 backends);
//   - NB transactions (and operations) per pod, from the watcher's own counters;
//   - watcher RSS (peak sampled during the burst);
//   - reference: the same NB work per pod done by one ovn-nbctl process per operation (a sample of
//     SAMPLE pods, 4 processes each), and the ratio to the watcher's per-pod cost.
import { spawn, execFile } from 'node:child_process';
import { openSync, closeSync, mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { OvsdbClient } from '../../lib/ovsdb/index.js';
import { NB_MODEL } from '../../lib/ovsdb/models/nb.js';
import { startOvsdbServer, freePort, ovsEnv } from '../../test/fixtures/ovsdb-server.js';
import { startApiServer } from '../../test/apiserver/server.js';
import { findResource, type KubeObject } from '../../test/apiserver/resources.js';
import { WATCHED_TABLES } from '../../watcher/master-init.js';

const execFileP = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const PODS = Number(process.env.BENCH_PODS ?? 1000);
const NODES = 10;
const SAMPLE = Number(process.env.BENCH_NBCTL_SAMPLE ?? 50);
const TOKEN = 'bench';
const rt = {
  node: findResource('', 'v1', 'nodes')!,
  pod: findResource('', 'v1', 'pods')!,
  svc: findResource('', 'v1', 'services')!,
  slice: findResource('discovery.k8s.io', 'v1', 'endpointslices')!,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(probe: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const f1 = (n: number) => n.toFixed(1);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-watcher-'));
  const nbServer = await startOvsdbServer();
  const api = await startApiServer({ listen: [{ host: '127.0.0.1', port: 0 }], token: TOKEN, namespaces: ['default', 'kube-system'], historySize: 100000 });
  const nb = await OvsdbClient.connect(NB_MODEL, { remotes: [nbServer.unix] });
  await nb.monitor([...WATCHED_TABLES]);
  const healthPort = await freePort();
  const logFile = join(dir, 'watcher.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...(process.env.BENCH_WATCHER_NODE_ARGS ?? '').split(' ').filter(Boolean), '--import', 'tsx', join(ROOT, 'watcher/main.ts'), '--kube-api', api.url, '--kube-token', TOKEN, '--nb', nbServer.unix, '--no-leader-election', '--health-listen', `127.0.0.1:${healthPort}`, '--workers', process.env.BENCH_WORKERS ?? '64'], {
    cwd: ROOT, stdio: ['ignore', fd, fd], env: { ...process.env, NODE_EXTRA_CA_CERTS: '', TESSERA_LOG_LEVEL: 'warn' },
  });
  closeSync(fd);
  const stats = async (): Promise<{ transactions: number; operations: number; rssBytes: number }> => {
    const r = await fetch(`http://127.0.0.1:${healthPort}/stats`);
    return (await r.json()) as never;
  };
  try {
    const store = api.store;
    for (let i = 0; i < NODES; i++) store.create(rt.node, undefined, { metadata: { name: `node${i}` } });
    await until(() => [...Array(NODES).keys()].every((i) => nb.cache.lookup('Logical_Switch', 'name', `node${i}`)), 120000, 'node switches');
    await until(() => { void stats().catch(() => {}); return true; }, 1000, 'stats');
    await sleep(500);
    const s0 = await stats();

    // ---- 1,000 pods in one burst ----
    const created = new Map<string, number>();
    const annotated = new Map<string, number>();
    const unwatch = store.watch(rt.pod, { labels: [], fields: [] }, {
      send: (_t, ev) => {
        const o: KubeObject = ev.object;
        const k = o.metadata.name!;
        if (!annotated.has(k) && o.metadata.annotations?.['tessera.io/pod-networks']) annotated.set(k, performance.now());
      },
    }, store.resourceVersion);
    let peakRss = s0.rssBytes;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peakRss = Math.max(peakRss, (await stats().catch(() => s0)).rssBytes);
        await sleep(100);
      }
    })();
    const t0 = performance.now();
    for (let i = 0; i < PODS; i++) {
      const name = `p${i}`;
      created.set(name, performance.now());
      store.create(rt.pod, 'default', { metadata: { name, namespace: 'default' }, spec: { nodeName: `node${i % NODES}`, containers: [{ name: 'c', image: 'x' }] } });
    }
    await until(() => annotated.size >= PODS, 300000, 'all pods annotated');
    const burstMs = performance.now() - t0;
    sampling = false;
    await sampler;
    unwatch();
    const lat = [...created].map(([k, t]) => annotated.get(k)! - t);
    const s1 = await stats();
    const txPerPod = (s1.transactions - s0.transactions) / PODS;
    const opsPerPod = (s1.operations - s0.operations) / PODS;

    // ---- service with 100 endpoints ----
    const svcT0 = performance.now();
    store.create(rt.svc, 'default', { metadata: { name: 'big', namespace: 'default' }, spec: { clusterIP: '10.96.0.100', ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }] } });
    store.create(rt.slice, 'default', {
      metadata: { name: 'big-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'big' } },
      addressType: 'IPv4',
      endpoints: Array.from({ length: 100 }, (_, i) => ({ addresses: [`10.244.${i % NODES}.${10 + Math.floor(i / NODES)}`], conditions: { ready: true } })),
      ports: [{ port: 8080, protocol: 'TCP' }],
    });
    await until(() => nb.cache.lookup('Load_Balancer', 'name', 'tessera_svc_default/big_tcp')?.vips['10.96.0.100:80']?.split(',').length === 100, 60000, 'LB with 100 backends');
    const svcMs = performance.now() - svcT0;
    // Endpoint change on the same service (in place): drop one endpoint.
    const upT0 = performance.now();
    store.patch(rt.slice, 'default', 'big-1', 'merge', { endpoints: Array.from({ length: 99 }, (_, i) => ({ addresses: [`10.244.${i % NODES}.${10 + Math.floor(i / NODES)}`], conditions: { ready: true } })) });
    await until(() => nb.cache.lookup('Load_Balancer', 'name', 'tessera_svc_default/big_tcp')?.vips['10.96.0.100:80']?.split(',').length === 99, 60000, 'LB with 99 backends');
    const svcUpdateMs = performance.now() - upT0;

    // ---- reference: one ovn-nbctl process per operation, same NB work per pod ----
    const env = ovsEnv(nbServer.dir);
    const nbctl = (args: string[]) => execFileP('ovn-nbctl', [`--db=${nbServer.unix}`, ...args], { env, timeout: 30000 });
    const ref0 = performance.now();
    for (let i = 0; i < SAMPLE; i++) {
      const name = `default_ref${i}`;
      const ip = `10.244.250.${i + 3}`;
      const mac = `0a:58:0a:f4:fa:${(i + 3).toString(16).padStart(2, '0')}`;
      await nbctl(['lsp-add', 'node0', name]);
      await nbctl(['lsp-set-addresses', name, `${mac} ${ip}`]);
      await nbctl(['lsp-set-port-security', name, `${mac} ${ip}`]);
      await nbctl(['set', 'Logical_Switch_Port', name, `external_ids:namespace=default`, `external_ids:pod=ref${i}`, `external_ids:tessera.io/owner=bench-reference`]);
    }
    const refPerPodMs = (performance.now() - ref0) / SAMPLE;
    const watcherPerPodMs = burstMs / PODS;

    const out = [
      `pods: ${PODS} in one burst over ${NODES} nodes; burst wall time ${f1(burstMs)} ms (${f1((PODS / burstMs) * 1000)} pods/s)`,
      `pod create -> annotated: p50 ${f1(pct(lat, 50))} ms, p99 ${f1(pct(lat, 99))} ms, max ${f1(Math.max(...lat))} ms (target p99 < 200 ms: ${pct(lat, 99) < 200 ? 'met' : 'NOT met'})`,
      `service with 100 endpoints: create -> LB programmed ${f1(svcMs)} ms; endpoint change -> LB updated in place ${f1(svcUpdateMs)} ms`,
      `NB transactions per pod: ${txPerPod.toFixed(2)} (${opsPerPod.toFixed(2)} operations per pod)`,
      `watcher RSS: peak ${f1(peakRss / 1048576)} MB during the burst (target < 300 MB: ${peakRss < 300 * 1048576 ? 'met' : 'NOT met'})`,
      `reference, one ovn-nbctl process per operation (sample of ${SAMPLE} pods, 4 processes each, sequential): ${f1(refPerPodMs)} ms per pod`,
      `ratio: ovn-nbctl per pod / watcher per pod (burst wall time / pods) = ${f1(refPerPodMs)} / ${f1(watcherPerPodMs)} = ${f1(refPerPodMs / watcherPerPodMs)}x`,
    ];
    process.stdout.write(out.join('\n') + '\n');
  } catch (err) {
    process.stderr.write(`bench failed: ${(err as Error).message}\nwatcher log tail:\n${readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n')}\n`);
    process.exitCode = 1;
  } finally {
    // SIGTERM first so a --cpu-prof run (BENCH_WATCHER_NODE_ARGS) can write its profile.
    child.kill('SIGTERM');
    await Promise.race([new Promise((r) => child.once('exit', r)), sleep(3000)]);
    child.kill('SIGKILL');
    nb.close();
    await api.close();
    await nbServer.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
