// `kubectl tessera connectivity`: short-lived pods in their own namespace; pod<->pod on one node and across nodes,
// a ClusterIP service, a NodePort from outside, egress to an external host, and a NetworkPolicy that must allow
// one client and deny another. Prints the matrix and removes everything, also when a step fails or on Ctrl-C.
import { ConfigError } from '../../lib/cli.js';
import { apiErrorCode, type KubeClients } from '../../lib/kube/client.js';
import type { Target } from '../target.js';
import { LabPodRunner } from './lab-runner.js';
import type { PodRunner, TestPod } from './runner.js';

export const CT_NAMESPACE = 'tessera-connectivity';
export const CT_PORT = 8080;
const SERVICE = 'ct-server';
const POLICY = 'ct-deny';
const POLICY_WAIT_MS = 20_000;
const NODEPORT_WAIT_MS = 15_000;

export interface Row {
  check: string;
  from: string;
  to: string;
  expect: 'reach' | 'blocked';
  ok: boolean;
  detail: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function ignore404(f: () => Promise<unknown>): Promise<void> {
  try {
    await f();
  } catch (err) {
    if (apiErrorCode(err) !== 404 && apiErrorCode(err) !== 409) throw err;
  }
}

interface Setup {
  srvA: TestPod;
  srvB: TestPod;
  protectedPod: TestPod;
  client: TestPod;
  intruder: TestPod;
  clusterIP: string;
  nodePort?: number;
}

async function setUp(kube: KubeClients, r: PodRunner, log: (m: string) => void): Promise<Setup> {
  const [a, b = a] = r.nodes;
  const ns = r.namespace;
  await ignore404(() => kube.core.createNamespace({ body: { metadata: { name: ns, labels: { 'app.kubernetes.io/managed-by': 'kubectl-tessera' } } } }));
  log(`pods in ${ns} on ${a.name}${b !== a ? ` and ${b.name}` : ''}`);
  const server = { app: 'ct-server' };
  const [srvA, srvB, protectedPod, client, intruder] = await Promise.all([
    r.create({ name: `srv-${a.name}`, node: a.name, labels: server, serve: CT_PORT }),
    r.create({ name: `srv-${b.name}-b`, node: b.name, labels: server, serve: CT_PORT }),
    r.create({ name: 'protected', node: b.name, labels: { app: 'ct-protected' }, serve: CT_PORT }),
    r.create({ name: 'client', node: a.name, labels: { app: 'ct-client', 'ct-allowed': 'true' } }),
    r.create({ name: 'intruder', node: a.name, labels: { app: 'ct-client' } }),
  ]);
  const addr = await r.serviceAddress();
  const svc = await kube.core.createNamespacedService({ namespace: ns, body: { metadata: { name: SERVICE }, spec: {
    type: r.external ? 'NodePort' : 'ClusterIP', selector: server, ...(addr.clusterIP ? { clusterIP: addr.clusterIP, clusterIPs: [addr.clusterIP] } : {}),
    ports: [{ name: 'tcp', protocol: 'TCP', port: 80, targetPort: CT_PORT as never, ...(r.external && addr.nodePort ? { nodePort: addr.nodePort } : {}) }] } } });
  await r.publishEndpoints?.(SERVICE, CT_PORT, [srvA, srvB]);
  await kube.networking.createNamespacedNetworkPolicy({ namespace: ns, body: { metadata: { name: POLICY }, spec: {
    podSelector: { matchLabels: { app: 'ct-protected' } }, policyTypes: ['Ingress'],
    ingress: [{ _from: [{ podSelector: { matchLabels: { 'ct-allowed': 'true' } } }], ports: [{ protocol: 'TCP', port: CT_PORT as never }] }] } } });
  return { srvA, srvB, protectedPod, client, intruder, clusterIP: svc.spec?.clusterIP ?? addr.clusterIP ?? '', nodePort: svc.spec?.ports?.[0]?.nodePort };
}

async function probeRow(r: PodRunner, check: string, from: TestPod, to: string, ip: string, port: number, tries = 1): Promise<Row> {
  for (let i = 0; i < tries; i++) {
    const res = await r.probe(from, ip, port);
    if (res.code !== 0) return { check, from: from.name, to, expect: 'reach', ok: false, detail: `no connection to ${ip}:${port}${tries > 1 ? ` (attempt ${i + 1})` : ''}: ${res.stderr.trim().split('\n')[0] || `exit ${res.code}`}` };
  }
  return { check, from: from.name, to, expect: 'reach', ok: true, detail: `${ip}:${port} connected${tries > 1 ? ` ${tries} times` : ''}` };
}

async function nodePortRow(ext: NonNullable<PodRunner['external']>, n: { name: string; ip: string }, port: number, deadline: number): Promise<Row> {
  const row: Row = { check: 'NodePort', from: 'external host', to: `${n.name}:${port}`, expect: 'reach', ok: false, detail: '' };
  const t0 = Date.now();
  do {
    if ((await ext.probe(n.ip, port)).code === 0) {
      row.ok = true;
      row.detail = `${n.ip}:${port} connected${Date.now() - t0 > 1000 ? ` (after ${Date.now() - t0} ms)` : ''}`;
      return row;
    }
    await sleep(300);
  } while (Date.now() < deadline);
  row.detail = `no connection to ${n.ip}:${port} within ${NODEPORT_WAIT_MS / 1000} s`;
  return row;
}

/** The denied pair: blocked once the policy is in force (it takes effect asynchronously), within POLICY_WAIT_MS. */
async function denyRow(r: PodRunner, s: Setup): Promise<Row> {
  const row: Row = { check: 'policy deny', from: s.intruder.name, to: `${s.protectedPod.name} (${POLICY})`, expect: 'blocked', ok: false, detail: '' };
  const t0 = Date.now();
  while (Date.now() - t0 < POLICY_WAIT_MS) {
    if ((await r.probe(s.intruder, s.protectedPod.ip, CT_PORT, 1)).code !== 0) {
      row.ok = true;
      row.detail = `blocked ${Date.now() - t0} ms after the policy was created`;
      return row;
    }
    await sleep(300);
  }
  row.detail = `still connects ${POLICY_WAIT_MS / 1000} s after NetworkPolicy ${POLICY} was created`;
  return row;
}

export async function runConnectivity(kube: KubeClients, r: PodRunner, log: (m: string) => void): Promise<Row[]> {
  const s = await setUp(kube, r, log);
  log('probing');
  const rows: Row[] = [];
  rows.push(await probeRow(r, 'pod->pod same node', s.client, s.srvA.name, s.srvA.ip, CT_PORT));
  rows.push(await probeRow(r, 'pod->pod cross node', s.client, s.srvB.name, s.srvB.ip, CT_PORT));
  rows.push(await probeRow(r, 'service', s.client, `svc ${SERVICE}`, s.clusterIP, 80, 4));
  if (r.external && s.nodePort) {
    // The gateways program a new NodePort asynchronously (NB load balancer, then br-phy flows): one shared deadline.
    const deadline = Date.now() + NODEPORT_WAIT_MS;
    for (const n of r.nodes) rows.push(await nodePortRow(r.external, n, s.nodePort, deadline));
    rows.push(await probeRow(r, 'egress', s.client, 'external host', r.external.ip, r.external.port));
  }
  rows.push(await probeRow(r, 'policy allow', s.client, `${s.protectedPod.name} (${POLICY})`, s.protectedPod.ip, CT_PORT));
  rows.push(await denyRow(r, s));
  return rows;
}

export function formatMatrix(rows: Row[]): string {
  const w = (f: (r: Row) => string): number => Math.max(...rows.map((x) => f(x).length), 5);
  const [wc, wf, wt] = [w((x) => x.check), w((x) => x.from), w((x) => x.to)];
  const head = `      ${'check'.padEnd(wc)}  ${'from'.padEnd(wf)}  ${'to'.padEnd(wt)}  expect   result`;
  const lines = rows.map((x) => `${x.ok ? 'OK  ' : 'FAIL'}  ${x.check.padEnd(wc)}  ${x.from.padEnd(wf)}  ${x.to.padEnd(wt)}  ${x.expect.padEnd(7)}  ${x.detail}`);
  const failed = rows.filter((x) => !x.ok).length;
  return [head, ...lines, '', failed ? `${failed} of ${rows.length} paths FAILED` : `all ${rows.length} paths OK`].join('\n');
}

async function cleanUp(kube: KubeClients, r: PodRunner): Promise<string[]> {
  const errors = await r.cleanup();
  for (const f of [() => kube.networking.deleteNamespacedNetworkPolicy({ namespace: r.namespace, name: POLICY }),
    () => kube.discovery.deleteNamespacedEndpointSlice({ namespace: r.namespace, name: `${SERVICE}-ct` }),
    () => kube.core.deleteNamespacedService({ namespace: r.namespace, name: SERVICE }),
    () => kube.core.deleteNamespace({ name: r.namespace })]) {
    await ignore404(f).catch((e: Error) => errors.push(e.message.split('\n')[0]));
  }
  return errors;
}

export async function connectivityCommand(t: Target, _o: Record<string, never>): Promise<number> {
  if (!t.lab) throw new ConfigError('connectivity runs its test pods through the lab\'s machinery: give --lab FILE (a cluster runner with a real image is not built yet)');
  const runner = new LabPodRunner(t.kube, t.lab.file, CT_NAMESPACE);
  const log = (m: string): void => void process.stderr.write(`connectivity: ${m}\n`);
  let interrupted = false;
  const onSignal = (): void => { interrupted = true; log('interrupted: cleaning up'); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let rows: Row[] = [];
  let failure: Error | undefined;
  try {
    rows = await runConnectivity(t.kube, runner, log);
  } catch (err) {
    failure = err as Error;
  } finally {
    log('removing test pods, service, policy, namespace');
    for (const e of await cleanUp(t.kube, runner)) log(`cleanup: ${e}`);
  }
  if (rows.length) process.stdout.write(formatMatrix(rows) + '\n');
  if (failure) throw failure;
  return !interrupted && rows.every((x) => x.ok) ? 0 : 1;
}
