// bench/watcher-scale: tessera-watcher (the built executable) against the API test double (its own process)
// and a real NB ovsdb-server, at cluster scale. In one run:
//   - 10,000 pods over 100 nodes (Node objects; the watcher makes their switches; it reads no SB, so no
//     chassis rows), 100 namespaces, paced at 500 creates/s: pod created -> annotated p50/p99, watcher
//     peak RSS, NB transactions and operations per pod (the watcher's own /stats counters);
//   - 1,000 services (3 endpoints each), then one service with 1,000 endpoints (10 slices of 100) and an
//     endpoint change;
//   - 1,000 NetworkPolicies over the 10,000 pods: time to program, NB size against a naive translation;
//   - a watcher restart with all of that in place: time until ready (re-checked everything) and until a
//     new pod is annotated, and the NB writes it made (its counters, and the records ovsdb-server appended
//     to the db file, which it writes only for transactions that change something).
// Env: BENCH_SCALE_PODS (10000, a multiple of 100), BENCH_SCALE_NODES (100), BENCH_SCALE_SERVICES (1000),
// BENCH_SCALE_ENDPOINTS (1000), BENCH_RATE (500 creates/s); BENCH_WATCHER_NODE_ARGS profiles the watcher.
import { mkdtempSync, rmSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { OvsdbClient } from '../../lib/ovsdb/index.js';
import { NB_MODEL } from '../../lib/ovsdb/models/nb.js';
import { startOvsdbServer } from '../../testkit/ovsdb-server.js';
import { UnixKubeClient, type KubeObject } from '../../kube-double/unix-client.js';
import { policyPortGroup, ruleAddressSet } from '../../watcher/policy/translate.js';
import { LeanHttpPool } from '../watcher/lean-http.js';
import { TOKEN, cpuMs, f1, pct, peakRssBytes, sleep, startApiProcess, startWatcherProcess, until, untilAsync, warnings, watchStream, type WatcherProcess } from '../lib/harness.js';
import { PODS_PER_NAMESPACE, endpointIp, endpointSlice, namespace, namespaceName, pod, policy, service, serviceIp, type PolicySpec } from './objects.js';
import { policyNbSize } from './policy-size.js';

const PODS = Number(process.env.BENCH_SCALE_PODS ?? 10000);
const NODES = Number(process.env.BENCH_SCALE_NODES ?? 100);
const SERVICES = Number(process.env.BENCH_SCALE_SERVICES ?? 1000);
const ENDPOINTS = Number(process.env.BENCH_SCALE_ENDPOINTS ?? 1000);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const MORE_PODS = Number(process.env.BENCH_SCALE_MORE_PODS ?? 1000);
const NAMESPACES = PODS / PODS_PER_NAMESPACE;
const POLICIES_PER_NS = 10;
const MB = 1048576;
const out = (s: string) => process.stdout.write(s + '\n');

/** POSTs every object with `inFlight` outstanding; returns the wall time. */
async function createAll(pool: LeanHttpPool, objs: { path: string; body: object }[]): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < objs.length) {
      const o = objs[next++];
      await pool.create(o.path, o.body);
    }
  }));
  return performance.now() - t0;
}

/**
 * Records (committed transactions that changed something) ovsdb-server appended to its db file from
 * `offset`, and the rows each table had changed in them; undefined if the file was compacted meanwhile.
 */
function dbRecordsSince(db: string, offset: number): { records: number; rowsByTable: Record<string, number> } | undefined {
  const size = statSync(db).size;
  if (size < offset) return undefined;
  const buf = Buffer.alloc(size - offset);
  const fd = openSync(db, 'r');
  readSync(fd, buf, 0, buf.length, offset);
  closeSync(fd);
  const rowsByTable: Record<string, number> = {};
  let records = 0;
  // Each record: "OVSDB JSON <length> <hash>\n" then <length> bytes of {"Table": {"uuid": row|null}, "_date": ...}.
  const header = /^OVSDB JSON (\d+) \S+\n/;
  for (let at = 0; at < buf.length; ) {
    const m = header.exec(buf.toString('latin1', at, at + 120));
    if (!m) break;
    const start = at + m[0].length;
    const rec = JSON.parse(buf.toString('utf8', start, start + Number(m[1]))) as Record<string, unknown>;
    for (const [t, rows] of Object.entries(rec)) if (!t.startsWith('_') && rows && typeof rows === 'object') rowsByTable[t] = (rowsByTable[t] ?? 0) + Object.keys(rows).length;
    records++;
    at = start + Number(m[1]) + 1;
  }
  return { records, rowsByTable };
}

/** Waits until the watcher's queues are empty and have processed nothing more for 1 s (no sync in flight either). */
async function settled(w: WatcherProcess): Promise<void> {
  let last = '';
  let quiet = 0;
  await untilAsync(async () => {
    const q = Object.values((await w.stats()).queues);
    const now = JSON.stringify(q);
    quiet = q.every((x) => x.length === 0) && now === last ? quiet + 1 : 0;
    last = now;
    return quiet >= 4;
  }, 300000, 'the watcher to settle', 250);
}

/** Creates the pods paced at RATE creates/s (open loop) and waits until each is annotated; latency from each create's answer. */
async function pacedPods(url: string, kube: UnixKubeClient, pool: LeanHttpPool, pods: { path: string; body: KubeObject }[]): Promise<{ lat: number[]; postMs: number; burstMs: number }> {
  const created = new Map<string, number>();
  const annotated = new Map<string, number>();
  const key = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;
  const unwatch = watchStream(url, '/api/v1/pods', (await kube.list('/api/v1/namespaces/none/pods')).metadata.resourceVersion!, (_t, o) => {
    const k = key(o);
    if (!annotated.has(k) && o.metadata.annotations?.['tessera.io/pod-networks']) annotated.set(k, performance.now());
  }, 'tessera.io/pod-networks');
  const t0 = performance.now();
  const creates: Promise<void>[] = [];
  for (let i = 0; i < pods.length; ) {
    const due = Math.min(pods.length, Math.floor(((performance.now() - t0) * RATE) / 1000) + 1);
    for (; i < due; i++) {
      const p = pods[i];
      creates.push(pool.create(p.path, p.body).then(() => void created.set(key(p.body), performance.now())));
    }
    if (i < pods.length) await sleep(1);
  }
  await Promise.all(creates);
  const postMs = performance.now() - t0;
  await until(() => annotated.size >= pods.length, 600000, 'all pods annotated', 20);
  const burstMs = performance.now() - t0;
  unwatch();
  return { lat: [...created].map(([k, t]) => Math.max(0, annotated.get(k)! - t)), postMs, burstMs };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-scale-'));
  const nbServer = await startOvsdbServer();
  const api = await startApiProcess(dir, 400000);
  const kube = new UnixKubeClient(api.url, { token: TOKEN, timeoutMs: 120000 });
  const nb = await OvsdbClient.connect(NB_MODEL, { remotes: [nbServer.unix] });
  await nb.monitor({ Logical_Switch: { columns: ['name'] }, Load_Balancer: { columns: ['name', 'vips'] }, Port_Group: { columns: ['name', 'acls', 'ports'] }, Address_Set: { columns: ['name', 'addresses'] } });
  const pool = new LeanHttpPool(api.url, 16, TOKEN);
  await pool.warm();
  out(`watcher-scale: ${PODS} pods, ${NODES} nodes, ${NAMESPACES} namespaces, ${SERVICES} services, ${NAMESPACES * POLICIES_PER_NS} policies; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  let w: WatcherProcess | undefined;
  try {
    await createAll(pool, Array.from({ length: NAMESPACES }, (_, n) => ({ path: '/api/v1/namespaces', body: namespace(n) })));
    await createAll(pool, Array.from({ length: NODES }, (_, i) => ({ path: '/api/v1/nodes', body: { apiVersion: 'v1', kind: 'Node', metadata: { name: `node${i}` } } })));
    w = await startWatcherProcess({ dir, apiUrl: api.url, nb: nbServer.unix, logName: 'watcher-1.log' });
    const first = w;
    const tNodes = performance.now();
    await until(() => [...Array(NODES).keys()].every((i) => nb.cache.lookup('Logical_Switch', 'name', `node${i}`)), 120000, 'node switches', 20);
    await untilAsync(() => first.ready(), 120000, 'watcher ready');
    out(`${NODES} nodes: watcher start -> every node switch in NB ${f1(performance.now() - tNodes)} ms`);

    // ---- pods, paced (open loop) ----
    const s0 = await w.stats();
    const cpu0 = { watcher: cpuMs(w.pid), nb: cpuMs(nbServer.pid), api: cpuMs(api.pid) };
    const { lat, postMs, burstMs } = await pacedPods(api.url, kube, pool, Array.from({ length: PODS }, (_, i) => pod(i, NODES)));
    const s1 = await w.stats();
    const cpuPerPod = (now: number, was: number) => ((now - was) / PODS).toFixed(2);
    const p99 = pct(lat, 99);
    out(`pods paced at ${RATE} creates/s: ${PODS} POSTs in ${f1(postMs)} ms, all annotated after ${f1(burstMs)} ms`);
    out(`  pod created -> annotated: p50 ${f1(pct(lat, 50))} ms, p99 ${f1(p99)} ms, max ${f1(Math.max(...lat))} ms (goal p99 < 200 ms: ${p99 < 200 ? 'met' : 'NOT met'})`);
    out(`  CPU ms/pod: watcher ${cpuPerPod(cpuMs(w.pid), cpu0.watcher)}, NB ovsdb-server ${cpuPerPod(cpuMs(nbServer.pid), cpu0.nb)}, API test server ${cpuPerPod(cpuMs(api.pid), cpu0.api)}`);
    out(`  NB per pod (watcher /stats counters): ${((s1.transactions - s0.transactions) / PODS).toFixed(3)} transactions, ${((s1.operations - s0.operations) / PODS).toFixed(2)} operations`);

    // ---- services ----
    const svcObjs: { path: string; body: object }[] = [];
    for (let i = 0; i < SERVICES; i++) {
      const ns = namespaceName(i % NAMESPACES);
      svcObjs.push({ path: `/api/v1/namespaces/${ns}/services`, body: service(ns, `s${i}`, serviceIp(i)) });
      svcObjs.push({ path: `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, body: endpointSlice(ns, `s${i}`, `s${i}-1`, [0, 1, 2].map((j) => endpointIp(i * 3 + j))) });
    }
    const lbOf = (ns: string, name: string) => nb.cache.lookup('Load_Balancer', 'name', `tessera_svc_${ns}/${name}_tcp`);
    const tSvc = performance.now();
    await createAll(pool, svcObjs);
    await until(() => svcObjs.length / 2 === SERVICES && [...Array(SERVICES).keys()].every((i) => lbOf(namespaceName(i % NAMESPACES), `s${i}`)?.vips[`${serviceIp(i)}:80`]?.split(',').length === 3), 300000, 'all services programmed', 50);
    out(`${SERVICES} services (3 endpoints each) created 16 in flight -> all LBs programmed: ${f1(performance.now() - tSvc)} ms`);

    const bigIp = '10.96.200.1';
    const bigIps = Array.from({ length: ENDPOINTS }, (_, i) => endpointIp(5000 + i));
    const slices = Math.ceil(ENDPOINTS / 100);
    const backends = () => lbOf('ns0', 'big')?.vips[`${bigIp}:80`]?.split(',').length ?? 0;
    const tBig = performance.now();
    await kube.create('/api/v1/namespaces/ns0/services', service('ns0', 'big', bigIp));
    for (let s = 0; s < slices; s++) await kube.create('/apis/discovery.k8s.io/v1/namespaces/ns0/endpointslices', endpointSlice('ns0', 'big', `big-${s}`, bigIps.slice(s * 100, s * 100 + 100)));
    await until(() => backends() === ENDPOINTS, 120000, `LB with ${ENDPOINTS} backends`);
    const bigMs = performance.now() - tBig;
    const tChange = performance.now();
    await kube.patch('/apis/discovery.k8s.io/v1/namespaces/ns0/endpointslices/big-0', endpointSlice('ns0', 'big', 'big-0', bigIps.slice(1, 100)));
    await until(() => backends() === ENDPOINTS - 1, 60000, `LB with ${ENDPOINTS - 1} backends`);
    out(`service with ${ENDPOINTS} endpoints (${slices} slices, among ${SERVICES} services): created -> LB programmed ${f1(bigMs)} ms; one endpoint removed -> LB updated ${f1(performance.now() - tChange)} ms`);

    // ---- NetworkPolicies ----
    const pols = Array.from({ length: NAMESPACES * POLICIES_PER_NS }, (_, i) => policy(Math.floor(i / POLICIES_PER_NS), i % POLICIES_PER_NS));
    const programmed = (p: PolicySpec): boolean => {
      const key = `${p.ns}/${p.name}`;
      const pg = nb.cache.lookup('Port_Group', 'name', policyPortGroup(key));
      if (!pg || pg.acls.length !== p.acls || pg.ports.length !== PODS_PER_NAMESPACE / 10) return false;
      return p.addressSets.every(([dir, r]) => (nb.cache.lookup('Address_Set', 'name', ruleAddressSet(key, dir, r))?.addresses.length ?? 0) > 0);
    };
    const polDbOffset = statSync(nbServer.db).size;
    const tPol = performance.now();
    const polPostMs = await createAll(pool, pols.map((p) => ({ path: `/apis/networking.k8s.io/v1/namespaces/${p.ns}/networkpolicies`, body: p.body })));
    await until(() => pols.every(programmed), 600000, 'all policies programmed', 100);
    const polMs = performance.now() - tPol;
    const polRecords = dbRecordsSince(nbServer.db, polDbOffset);
    const size = await policyNbSize(nbServer.unix);
    const kb = (b: number) => `${f1(b / 1024)} KiB`;
    out(`${pols.length} NetworkPolicies over ${PODS} pods (POSTs took ${f1(polPostMs)} ms): created -> all programmed ${f1(polMs)} ms (${polRecords?.records ?? '?'} NB db records appended)`);
    out(`  NB rows: ACL ${size.tessera.rows.acl}, Port_Group ${size.tessera.rows.portGroup}, Address_Set ${size.tessera.rows.addressSet}; bytes (rows as OVSDB JSON): ACL ${kb(size.tessera.bytes.acl)}, Port_Group ${kb(size.tessera.bytes.portGroup)}, Address_Set ${kb(size.tessera.bytes.addressSet)}, total ${kb(size.tessera.bytes.total)}`);
    out(`  reference, naive one ACL per peer pod (no address sets): ACL ${size.naive.rows.acl} rows, total ${kb(size.naive.bytes.total)}; ratio naive/tessera: ACL rows ${f1(size.naive.rows.acl / size.tessera.rows.acl)}x, bytes ${f1(size.naive.bytes.total / size.tessera.bytes.total)}x`);
    // ---- more pods, with the policies in place (each pod can change their port groups and address sets) ----
    const more = Array.from({ length: MORE_PODS }, (_, j) => {
      const p = pod((j % NAMESPACES) * PODS_PER_NAMESPACE + (j % 10), NODES, 'q');
      p.body.metadata.name = `q${j}`;
      return p;
    });
    const cpu1 = { watcher: cpuMs(w.pid), nb: cpuMs(nbServer.pid), api: cpuMs(api.pid) };
    const withPol = await pacedPods(api.url, kube, pool, more);
    const cpuMore = (now: number, was: number) => ((now - was) / MORE_PODS).toFixed(2);
    const p99b = pct(withPol.lat, 99);
    out(`${MORE_PODS} more pods paced at ${RATE} creates/s with the ${pols.length} policies in place: all annotated after ${f1(withPol.burstMs)} ms; created -> annotated p50 ${f1(pct(withPol.lat, 50))} ms, p99 ${f1(p99b)} ms (goal p99 < 200 ms: ${p99b < 200 ? 'met' : 'NOT met'})`);
    out(`  CPU ms/pod: watcher ${cpuMore(cpuMs(w.pid), cpu1.watcher)}, NB ovsdb-server ${cpuMore(cpuMs(nbServer.pid), cpu1.nb)}, API test server ${cpuMore(cpuMs(api.pid), cpu1.api)}`);
    await settled(first);
    const peak1 = peakRssBytes(w.pid);
    out(`watcher peak RSS (VmHWM) after pods, services and policies: ${f1(peak1 / MB)} MB (goal < 500 MB: ${peak1 < 500 * MB ? 'met' : 'NOT met'})`);
    const warn1 = warnings(w.logFile);
    out(`watcher warnings: ${warn1.length}${warn1.length ? ` (first: ${warn1[0].slice(0, 200)})` : ''}`);

    // ---- restart with everything in place ----
    await settled(first);
    await w.stop();
    const dbOffset = statSync(nbServer.db).size;
    const tRestart = performance.now();
    w = await startWatcherProcess({ dir, apiUrl: api.url, nb: nbServer.unix, logName: 'watcher-2.log' });
    const second = w;
    await untilAsync(() => second.ready(), 300000, 'restarted watcher ready', 10);
    const readyMs = performance.now() - tRestart;
    const sR = await w.stats();
    const records = dbRecordsSince(nbServer.db, dbOffset);
    let newAnnotated = 0;
    const unwatch2 = watchStream(api.url, '/api/v1/namespaces/ns0/pods', (await kube.list('/api/v1/namespaces/ns0/pods')).metadata.resourceVersion!, (_t, o) => {
      if (o.metadata.name === 'after-restart0' && o.metadata.annotations?.['tessera.io/pod-networks']) newAnnotated ||= performance.now();
    }, 'after-restart');
    const tNew = performance.now();
    await kube.create('/api/v1/namespaces/ns0/pods', pod(0, NODES, 'after-restart').body);
    await until(() => newAnnotated, 60000, 'the new pod annotated');
    const newMs = newAnnotated - tNew;
    unwatch2();
    const writes = sR.transactions;
    out(`watcher restart with ${PODS + MORE_PODS} pods, ${SERVICES + 1} services, ${pols.length} policies in place: start -> ready (reconciled) ${f1(readyMs)} ms; a pod created then -> annotated ${f1(newMs)} ms; total ${f1(readyMs + newMs)} ms (goal < 10 s: ${readyMs + newMs < 10000 ? 'met' : 'NOT met'})`);
    out(`  NB writes on the restart with nothing changed: watcher-sent transactions ${writes} (${sR.operations} operations); records ovsdb-server appended to the db ${records ? `${records.records} (rows changed: ${JSON.stringify(records.rowsByTable)})` : 'unknown (the db was compacted)'} (goal 0: ${writes === 0 && records?.records === 0 ? 'met' : 'NOT met'})`);
    out(`  restarted watcher peak RSS ${f1(peakRssBytes(w.pid) / MB)} MB; warnings ${warnings(w.logFile).length}`);
  } catch (err) {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  } finally {
    await w?.stop();
    pool.close();
    nb.close();
    await api.stop();
    await nbServer.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
