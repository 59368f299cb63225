// bench/watcher: tessera-watcher (child process: the built executable, else the source) against the API
// test double (its own process) and a real NB ovsdb-server (temp dir). Measures, in one run:
//   - 1,000 pods created in a burst over 10 nodes, twice: paced at BENCH_RATE creates/s (open loop), then
//     with BENCH_IN_FLIGHT POSTs outstanding (closed loop, as fast as the API server answers): create →
//     annotated latency p50/p99, wall time, CPU of each process;
//   - service programming latency for a service with 100 endpoints (create → LB row with 100 backends);
//   - NB transactions (and operations) per pod, from the watcher's own counters;
//   - watcher RSS (the kernel's high-water mark);
//   - reference: the same NB work per pod done by one ovn-nbctl process per operation (a sample of
//     SAMPLE pods, 4 processes each), and the ratio to the watcher's per-pod cost.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OvsdbClient } from '../../lib/ovsdb/index.js';
import { NB_MODEL } from '../../lib/ovsdb/models/nb.js';
import { startOvsdbServer, ovsEnv } from '../../testkit/ovsdb-server.js';
import { UnixKubeClient } from '../../kube-double/unix-client.js';
import { LeanHttpPool } from './lean-http.js';
import { TOKEN, cpuMs, f1, pct, peakRssBytes, sleep, startApiProcess, startWatcherProcess, until, warnings, watcherCommand, watchStream } from '../lib/harness.js';

const execFileP = promisify(execFile);
const PODS = Number(process.env.BENCH_PODS ?? 1000);
const NODES = 10;
const SAMPLE = Number(process.env.BENCH_NBCTL_SAMPLE ?? 50);
/** POSTs in flight during the burst (fewer: a slower arrival rate, to see the latency when not throughput-bound). */
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 64);
/**
 * Creates per second in the paced burst: 1,000 pods in 2 s, faster than a real control plane issues
 * them (kube-controller-manager and kube-scheduler default to 20 and 50 API requests/s).
 */
const RATE = Number(process.env.BENCH_RATE ?? 500);
async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-watcher-'));
  const nbServer = await startOvsdbServer();
  const api = await startApiProcess(dir);
  const kube = new UnixKubeClient(api.url, { token: TOKEN, timeoutMs: 60000 });
  const nb = await OvsdbClient.connect(NB_MODEL, { remotes: [nbServer.unix] });
  // Only what the bench reads (node switch names, the service's LB): monitoring every LSP, or the
  // switches' port sets, would add the bench's own decoding of 1,000 port inserts to the CPU the
  // watcher competes with during the burst.
  await nb.monitor({ Logical_Switch: { columns: ['name'] }, Load_Balancer: {} });
  // The machine is shared: the load average says how comparable two runs are.
  process.stdout.write(`watcher: ${watcherCommand().shown}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  const extraArgs = [...(process.env.BENCH_WORKERS ? ['--workers', process.env.BENCH_WORKERS] : []), ...(process.env.BENCH_API_CONNECTIONS ? ['--api-connections', process.env.BENCH_API_CONNECTIONS] : [])];
  const watcher = await startWatcherProcess({ dir, apiUrl: api.url, nb: nbServer.unix, logName: 'watcher.log', extraArgs });
  const { logFile, stats } = watcher;
  interface BurstResult {
    label: string;
    createMs: number;
    burstMs: number;
    lat: number[];
    latSent: number[];
    cpu: { api: number; watcher: number; nb: number; bench: number };
  }
  /**
   * Creates PODS pods over NODES nodes and waits until every one is annotated. Either paced at a fixed
   * rate, whatever the answers (open loop: the arrival rate does not bend to the system's speed), or
   * closed loop with `inFlight` POSTs outstanding (as fast as the API server takes them). A pod is
   * created when the API server has accepted it (the create returned), as creationTimestamp says; the
   * time its POST was sent is kept too, to show what queueing for the API server adds.
   */
  const burst = async (plan: { prefix: string; ratePerSec?: number; inFlight?: number }): Promise<BurstResult> => {
    const sent = new Map<string, number>();
    const created = new Map<string, number>();
    const annotated = new Map<string, number>();
    // The load generator's connections are open and answered before the burst, as a long-running
    // client's would be.
    const posts = new LeanHttpPool(api.url, IN_FLIGHT, TOKEN);
    await posts.warm();
    const rv = (await kube.list('/api/v1/namespaces/default/pods')).metadata.resourceVersion;
    const unwatch = watchStream(api.url, '/api/v1/namespaces/default/pods', rv, (_t, o) => {
      const k = o.metadata.name!;
      if (!annotated.has(k) && o.metadata.annotations?.['tessera.io/pod-networks']) annotated.set(k, performance.now());
    }, 'tessera.io/pod-networks');
    // CPU used during the burst by each process: a figure the machine's other load disturbs far less than latency.
    const cpu0 = { api: cpuMs(api.pid), watcher: cpuMs(watcher.pid), nb: cpuMs(nbServer.pid), bench: process.cpuUsage() };
    const t0 = performance.now();
    // For profiles: the burst's window on the monotonic clock that V8 profiles also use (microseconds).
    const mono = () => process.hrtime.bigint() / 1000n;
    const burstStart = mono();
    const create = async (i: number): Promise<void> => {
      const name = `${plan.prefix}${i}`;
      sent.set(name, performance.now());
      await posts.create('/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: `node${i % NODES}`, containers: [{ name: 'c', image: 'x' }] } });
      created.set(name, performance.now());
    };
    if (plan.ratePerSec) {
      const creates: Promise<void>[] = [];
      for (let i = 0; i < PODS; ) {
        const due = Math.min(PODS, Math.floor(((performance.now() - t0) * plan.ratePerSec) / 1000) + 1);
        while (i < due) creates.push(create(i++));
        if (i < PODS) await sleep(1);
      }
      await Promise.all(creates);
    } else {
      let next = 0;
      await Promise.all(Array.from({ length: plan.inFlight ?? IN_FLIGHT }, async () => {
        while (next < PODS) await create(next++);
      }));
    }
    const createMs = performance.now() - t0;
    posts.close();
    await until(() => annotated.size >= PODS, 300000, 'all pods annotated');
    const burstMs = performance.now() - t0;
    if (process.env.BENCH_MARK) process.stderr.write(`burst ${plan.prefix} window (monotonic us): ${burstStart} ${mono()}\n`);
    const benchCpu = process.cpuUsage(cpu0.bench);
    const cpu = { api: cpuMs(api.pid) - cpu0.api, watcher: cpuMs(watcher.pid) - cpu0.watcher, nb: cpuMs(nbServer.pid) - cpu0.nb, bench: (benchCpu.user + benchCpu.system) / 1000 };
    unwatch();
    // BENCH_TIMELINE=1: pods created and annotated per 100 ms, to see whether a backlog builds during the burst.
    if (process.env.BENCH_TIMELINE) {
      const bucket = (t: number) => Math.floor((t - t0) / 100);
      const rows = new Map<number, [number, number]>();
      const count = (t: number, i: 0 | 1) => {
        const r = rows.get(bucket(t)) ?? [0, 0];
        r[i]++;
        rows.set(bucket(t), r);
      };
      for (const t of created.values()) count(t, 0);
      for (const t of annotated.values()) count(t, 1);
      let c = 0;
      let a = 0;
      for (const k of [...rows.keys()].sort((x, y) => x - y)) {
        c += rows.get(k)![0];
        a += rows.get(k)![1];
        process.stdout.write(`[${plan.prefix}] t=${k * 100} ms: created ${c}, annotated ${a}, backlog ${c - a}\n`);
      }
    }
    const label = plan.ratePerSec ? `paced at ${plan.ratePerSec} creates/s (open loop)` : `${plan.inFlight ?? IN_FLIGHT} POSTs in flight (closed loop: as fast as the API server answers)`;
    return {
      label,
      createMs,
      burstMs,
      // The watcher may annotate a pod before the bench has read the create's response: that counts as 0.
      lat: [...created].map(([k, t]) => Math.max(0, annotated.get(k)! - t)),
      latSent: [...sent].map(([k, t]) => annotated.get(k)! - t),
      cpu,
    };
  };

  try {
    for (let i = 0; i < NODES; i++) await kube.create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: `node${i}` } });
    await until(() => [...Array(NODES).keys()].every((i) => nb.cache.lookup('Logical_Switch', 'name', `node${i}`)), 120000, 'node switches');
    let s0 = await stats().catch(() => undefined);
    for (let i = 0; i < 100 && !s0; i++) {
      await sleep(100);
      s0 = await stats().catch(() => undefined);
    }
    if (!s0) throw new Error('watcher /stats did not answer');

    // ---- 1,000 pods in a burst, twice: paced (open loop), then as fast as the API server takes them ----
    const paced = await burst({ prefix: 'a', ratePerSec: RATE });
    const flood = await burst({ prefix: 'b', inFlight: IN_FLIGHT });
    const s1 = await stats();
    const peakRss = peakRssBytes(watcher.pid);
    const txPerPod = (s1.transactions - s0.transactions) / (2 * PODS);
    const opsPerPod = (s1.operations - s0.operations) / (2 * PODS);

    // ---- service with 100 endpoints ----
    const svcT0 = performance.now();
    await kube.create('/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'big', namespace: 'default' }, spec: { clusterIP: '10.96.0.100', ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }] } });
    await kube.create('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: 'big-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'big' } },
      addressType: 'IPv4',
      endpoints: Array.from({ length: 100 }, (_, i) => ({ addresses: [`10.244.${i % NODES}.${10 + Math.floor(i / NODES)}`], conditions: { ready: true } })),
      ports: [{ port: 8080, protocol: 'TCP' }],
    });
    await until(() => nb.cache.lookup('Load_Balancer', 'name', 'tessera_svc_default/big_tcp')?.vips['10.96.0.100:80']?.split(',').length === 100, 60000, 'LB with 100 backends');
    const svcMs = performance.now() - svcT0;
    // Endpoint change on the same service (in place): drop one endpoint.
    const upT0 = performance.now();
    await kube.patch('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/big-1', { endpoints: Array.from({ length: 99 }, (_, i) => ({ addresses: [`10.244.${i % NODES}.${10 + Math.floor(i / NODES)}`], conditions: { ready: true } })) });
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
    const watcherPerPodMs = flood.burstMs / PODS;

    const perPod = (ms: number) => `${(ms / PODS).toFixed(2)} ms/pod`;
    const describe = (b: BurstResult): string[] => [
      `burst ${b.label}: ${PODS} pods over ${NODES} nodes; POSTs done in ${f1(b.createMs)} ms, all annotated after ${f1(b.burstMs)} ms (${f1((PODS / b.burstMs) * 1000)} pods/s)`,
      `  pod create -> annotated: p50 ${f1(pct(b.lat, 50))} ms, p99 ${f1(pct(b.lat, 99))} ms, max ${f1(Math.max(...b.lat))} ms (target p99 < 200 ms: ${pct(b.lat, 99) < 200 ? 'met' : 'NOT met'})`,
      `  pod POST sent -> annotated (adds the wait for the API server's answer): p50 ${f1(pct(b.latSent, 50))} ms, p99 ${f1(pct(b.latSent, 99))} ms`,
      `  CPU: API test server ${perPod(b.cpu.api)}, watcher ${perPod(b.cpu.watcher)}, NB ovsdb-server ${perPod(b.cpu.nb)}, bench client ${perPod(b.cpu.bench)} (2 cores shared by all four)`,
    ];
    const out = [
      `(the API test server runs in its own process; the paced burst runs first, on an empty cluster, the closed-loop one on top of it)`,
      ...describe(paced),
      ...describe(flood),
      `watcher-side latency from the pod event, both bursts: -> LSP committed in NB p50 ${f1(s1.podLatencyMs.nbCommitted.p50)} ms, p99 ${f1(s1.podLatencyMs.nbCommitted.p99)} ms; -> annotation accepted p50 ${f1(s1.podLatencyMs.annotated.p50)} ms, p99 ${f1(s1.podLatencyMs.annotated.p99)} ms (${s1.podLatencyMs.annotated.count} pods)`,
      `service with 100 endpoints: create -> LB programmed ${f1(svcMs)} ms; endpoint change -> LB updated in place ${f1(svcUpdateMs)} ms`,
      `NB transactions per pod: ${txPerPod.toFixed(2)} (${opsPerPod.toFixed(2)} operations per pod)`,
      `watcher RSS: peak ${f1(peakRss / 1048576)} MB (the kernel's high-water mark, VmHWM; target < 300 MB: ${peakRss < 300 * 1048576 ? 'met' : 'NOT met'})`,
      `reference, one ovn-nbctl process per operation (sample of ${SAMPLE} pods, 4 processes each, sequential): ${f1(refPerPodMs)} ms per pod`,
      `ratio: ovn-nbctl per pod / watcher per pod (closed-loop burst wall time / pods) = ${f1(refPerPodMs)} / ${f1(watcherPerPodMs)} = ${f1(refPerPodMs / watcherPerPodMs)}x`,
    ];
    // A failed sync is retried with backoff, which a latency tail would hide: say how many there were.
    // Any line that mentions "warn" (Node's own "Warning:" lines too, which the harness's default misses),
    // as this bench's README figure counts them; the harness's default also counts error-level lines.
    const warned = warnings(logFile, /warn/i);
    out.push(`watcher warnings: ${warned.length}${warned.length ? ` (first: ${warned[0].slice(0, 200)})` : ''}`);
    process.stdout.write(out.join('\n') + '\n');
  } catch (err) {
    process.stderr.write(`bench failed: ${(err as Error).message}\nwatcher log tail:\n${readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n')}\n`);
    process.exitCode = 1;
  } finally {
    // stop() sends SIGTERM first, so a --cpu-prof run (BENCH_WATCHER_NODE_ARGS) can write its profile.
    await watcher.stop();
    nb.close();
    await api.stop();
    await nbServer.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
