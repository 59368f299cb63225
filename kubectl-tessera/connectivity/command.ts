// `kubectl tessera connectivity`: short-lived pods in their own namespace; pod<->pod on one node and across nodes,
// a ClusterIP service, a NodePort from outside, egress to an external host, and a NetworkPolicy that must allow
// one client and deny another. Prints the matrix and removes everything, also when a step fails or on Ctrl-C.
// The pods: ClusterPodRunner, real pods from an image with probes through pods/exec, on a cluster and in the lab
// alike (the lab's kubelet runs them; with --lab the API is reached over its unix socket, and the lab's external
// host probes NodePort from its own netns).
import { ConfigError } from '../../lib/cli.js';
import { apiErrorCode, type KubeClients } from '../../lib/kube/client.js';
import type { Target } from '../target.js';
import { ClusterPodRunner } from './cluster-runner.js';
import { execCmd } from '../exec.js';
import { podExec, unixSocketExec } from './pod-exec.js';
import type { PodRunner, TestPod } from './runner.js';

export const CT_NAMESPACE = 'tessera-connectivity';
export const CT_PORT = 8080;
const SERVICE = 'ct-server';
const POLICY = 'ct-deny';
const POLICY_WAIT_MS = 20_000;
const NODEPORT_WAIT_MS = 15_000;
const ENDPOINTS_WAIT_MS = 30_000;
const NAMESPACE_GONE_MS = 60_000;

export interface Row {
  check: string;
  from: string;
  to: string;
  expect: 'reach' | 'blocked';
  ok: boolean;
  /** Not performed (e.g. no external host given): neither a pass nor a failure. */
  skipped?: boolean;
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
  // The API server allocates the ClusterIP and the NodePort; the endpointslice controller writes the slices.
  const svc = await kube.core.createNamespacedService({ namespace: ns, body: { metadata: { name: SERVICE }, spec: {
    type: r.external ? 'NodePort' : 'ClusterIP', selector: server, ports: [{ name: 'tcp', protocol: 'TCP', port: 80, targetPort: CT_PORT as never }] } } });
  await waitEndpoints(kube, ns, [srvA, srvB]);
  await kube.networking.createNamespacedNetworkPolicy({ namespace: ns, body: { metadata: { name: POLICY }, spec: {
    podSelector: { matchLabels: { app: 'ct-protected' } }, policyTypes: ['Ingress'],
    ingress: [{ _from: [{ podSelector: { matchLabels: { 'ct-allowed': 'true' } } }], ports: [{ protocol: 'TCP', port: CT_PORT as never }] }] } } });
  return { srvA, srvB, protectedPod, client, intruder, clusterIP: svc.spec?.clusterIP ?? '', nodePort: svc.spec?.ports?.[0]?.nodePort };
}

/** The service's EndpointSlices list both servers as ready (the endpointslice controller writes them asynchronously). */
async function waitEndpoints(kube: KubeClients, ns: string, servers: TestPod[]): Promise<void> {
  const t0 = Date.now();
  let have: string[] = [];
  while (Date.now() - t0 < ENDPOINTS_WAIT_MS) {
    const slices = await kube.discovery.listNamespacedEndpointSlice({ namespace: ns, labelSelector: `kubernetes.io/service-name=${SERVICE}` });
    have = slices.items.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses));
    if (servers.every((p) => have.includes(p.ip))) return;
    await sleep(250);
  }
  throw new Error(`service ${ns}/${SERVICE}: its EndpointSlices list ${have.join(', ') || 'no ready address'} after ${ENDPOINTS_WAIT_MS / 1000} s, not both servers (${servers.map((p) => p.ip).join(', ')}): is the endpointslice controller running?`);
}

const skipRow = (check: string, from: string, to: string, why: string): Row => ({ check, from, to, expect: 'reach', ok: true, skipped: true, detail: `skipped: ${why}` });

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
  } else {
    const why = 'no host outside the cluster: give --external-host IP:PORT (a TCP listener)';
    rows.push(skipRow('NodePort', 'external host', 'every node', why), skipRow('egress', s.client.name, 'external host', why));
  }
  rows.push(await probeRow(r, 'policy allow', s.client, `${s.protectedPod.name} (${POLICY})`, s.protectedPod.ip, CT_PORT));
  rows.push(await denyRow(r, s));
  return rows;
}

export function formatMatrix(rows: Row[]): string {
  const w = (f: (r: Row) => string): number => Math.max(...rows.map((x) => f(x).length), 5);
  const [wc, wf, wt] = [w((x) => x.check), w((x) => x.from), w((x) => x.to)];
  const head = `      ${'check'.padEnd(wc)}  ${'from'.padEnd(wf)}  ${'to'.padEnd(wt)}  expect   result`;
  const lines = rows.map((x) => `${x.skipped ? 'SKIP' : x.ok ? 'OK  ' : 'FAIL'}  ${x.check.padEnd(wc)}  ${x.from.padEnd(wf)}  ${x.to.padEnd(wt)}  ${x.expect.padEnd(7)}  ${x.detail}`);
  const failed = rows.filter((x) => !x.ok).length;
  const done = rows.filter((x) => !x.skipped).length;
  const skipped = rows.length - done ? `, ${rows.length - done} skipped` : '';
  return [head, ...lines, '', failed ? `${failed} of ${done} paths FAILED${skipped}` : `all ${done} paths OK${skipped}`].join('\n');
}

async function cleanUp(kube: KubeClients, r: PodRunner): Promise<string[]> {
  const errors = await r.cleanup();
  for (const f of [() => kube.networking.deleteNamespacedNetworkPolicy({ namespace: r.namespace, name: POLICY }),
    () => kube.core.deleteNamespacedService({ namespace: r.namespace, name: SERVICE }),
    () => kube.core.deleteNamespace({ name: r.namespace })]) {
    await ignore404(f).catch((e: Error) => errors.push(e.message.split('\n')[0]));
  }
  // A real API server finalizes a namespace asynchronously (its pods terminate first): wait until it is gone.
  for (const t0 = Date.now(); Date.now() - t0 < NAMESPACE_GONE_MS; await sleep(500)) {
    try {
      await kube.core.readNamespace({ name: r.namespace });
    } catch (err) {
      if (apiErrorCode(err) === 404) return errors;
      errors.push(`namespace ${r.namespace}: ${(err as Error).message.split('\n')[0]}`);
      return errors;
    }
  }
  errors.push(`namespace ${r.namespace} still exists ${NAMESPACE_GONE_MS / 1000} s after its deletion`);
  return errors;
}

export interface ConnectivityOptions {
  /** The test pods' image (cluster runner); default Tessera's own. */
  image?: string;
  /** IP:PORT of a TCP listener outside the cluster (a lab has its external host). */
  externalHost?: string;
}

export function parseHostPort(v: string): { ip: string; port: number } {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(v);
  const port = Number(m?.[2]);
  if (!m || m[1].split('.').some((o) => Number(o) > 255) || port < 1 || port > 65535) throw new ConfigError(`--external-host "${v}": expected IPV4:PORT`);
  return { ip: m[1], port };
}

async function runnerFor(t: Target, o: ConnectivityOptions): Promise<PodRunner> {
  const lab = t.lab?.file;
  if (lab?.apiserver) {
    if (o.externalHost) throw new ConfigError('--external-host: with --lab the lab\'s external host is used (the root netns reaches no lab address)');
    const gw = lab.gateway;
    // The external host is a netns of the lab: NodePort is probed from there.
    const external = gw ? { ip: gw.extIp, port: gw.extPort, probe: (ip: string, port: number) => execCmd('ip', ['netns', 'exec', gw.extNetns, 'nc', '-z', '-w', '3', ip, String(port)], { timeoutMs: 10_000 }) } : undefined;
    return ClusterPodRunner.create(t.kube, unixSocketExec(t.kube.kc, lab.apiserver.unixSocket), CT_NAMESPACE, { image: o.image, external });
  }
  return ClusterPodRunner.create(t.kube, podExec(t.kube.kc), CT_NAMESPACE, { image: o.image, externalHost: o.externalHost ? parseHostPort(o.externalHost) : undefined });
}

export async function connectivityCommand(t: Target, o: ConnectivityOptions): Promise<number> {
  const runner = await runnerFor(t, o);
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
