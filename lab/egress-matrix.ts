// The lab's egress/ingress matrix: from a pod on every node, by TCP, UDP and ping where it applies,
//  - its own node's IP and every other node's IP (a "who am I talking to" listener in each node's host netns),
//  - a kubernetes-style service: a ClusterIP service without selector whose EndpointSlice points at the first
//    node's IP (a hostNetwork endpoint, like the `kubernetes` service and the API server),
//  - the external host (TCP, DNS-style UDP on :53, ping), SNATed to the pod's own node IP,
//  - default/web's NodePort on every node (from the client pods, which make lab's policy lets in),
// and from every node's host netns: every pod (ping, TCP) and default/web's ClusterIP. The gateways' own checks
// (gateway.ts) add external host -> NodePort on every node. addEgressMatrix() starts the listeners and the service;
// egressChecks() needs only lab.json, so `make lab-status` runs them too.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnDaemon } from './daemon.js';
import { run } from './exec.js';
import type { UnixKubeClient } from './kube.js';
import type { LabEgressInfo, LabFile } from './lab-file.js';
import { REPO_ROOT } from './paths.js';
import { pingCheck, tcpExchange, type CheckResult } from './report.js';
import { sleep, waitFor } from './wait.js';

/** TCP+UDP listener in every node's host netns (the port a kube-apiserver would use). */
export const HOST_PORT = 6443;
/** DNS-style UDP (and TCP) listener on the external host. */
export const DNS_PORT = 53;
const NODE_SERVICE_TRIES = 6;
// Like the `kubernetes` service (whose 10.96.0.1 the API test server keeps reserved): port 443 -> a node's :6443.
export const HOST_SERVICE = { namespace: 'default', name: 'host-api', clusterIP: '10.96.0.11', port: 443 };

export interface EgressHost {
  file: LabFile;
  runDir: string;
  kube: UnixKubeClient | undefined;
}

// Bound to one address: an unconnected UDP socket on 0.0.0.0 would answer from the address the route to the client
// prefers (a node: its management port's), which the client's connected socket ignores.
const spawnListener = (dir: string, netns: string, name: string, ip: string, port: number): void => {
  spawnDaemon({ dir, name, netns, cwd: REPO_ROOT, cmd: process.execPath,
    args: ['--import', 'tsx', join(REPO_ROOT, 'lab', 'external-host.ts'), '--name', name, '--host', ip, '--port', String(port), '--lab-run', dir] });
};

const listening = async (netns: string, port: number): Promise<boolean> =>
  (await run('ss', ['-Htln', `sport = :${port}`], { netns })) !== '' && (await run('ss', ['-Huln', `sport = :${port}`], { netns })) !== '';

/** Listeners on every node and on the external host, and the kubernetes-style service (needs the gateways' external host). */
export async function addEgressMatrix(lab: EgressHost): Promise<LabEgressInfo> {
  const f = lab.file;
  const g = f.gateway;
  if (!g) throw new Error('lab egress matrix: needs the gateways and the external host (gateway.ts)');
  if (!lab.kube || !f.components.watcher) throw new Error('lab egress matrix: needs the API test server and tessera-watcher');
  const dir = join(lab.runDir, 'egress');
  mkdirSync(dir, { recursive: true });
  for (const n of f.nodes) spawnListener(dir, n.netns, `${n.name}-host`, n.ip, HOST_PORT);
  spawnListener(dir, g.extNetns, 'external-dns', g.extIp, DNS_PORT);
  for (const ns of [...f.nodes.map((n) => n.netns), g.extNetns]) {
    await waitFor(`listeners in ${ns}`, () => listening(ns, ns === g.extNetns ? DNS_PORT : HOST_PORT), 15_000);
  }

  const endpoint = f.nodes[0]!;
  const s = HOST_SERVICE;
  const ports = [{ name: 'tcp', protocol: 'TCP' as const, port: s.port, targetPort: HOST_PORT }, { name: 'udp', protocol: 'UDP' as const, port: s.port, targetPort: HOST_PORT }];
  await lab.kube.create(`/api/v1/namespaces/${s.namespace}/services`, {
    apiVersion: 'v1', kind: 'Service', metadata: { name: s.name, namespace: s.namespace },
    spec: { type: 'ClusterIP', clusterIP: s.clusterIP, clusterIPs: [s.clusterIP], ports },
  });
  // As the API server's endpoint reconciler writes the `kubernetes` service's: the node IP, no Pod behind it.
  await lab.kube.create(`/apis/discovery.k8s.io/v1/namespaces/${s.namespace}/endpointslices`, {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `${s.name}-lab`, namespace: s.namespace, labels: { 'kubernetes.io/service-name': s.name, 'endpointslice.kubernetes.io/managed-by': 'tessera-lab' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [endpoint.ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: endpoint.name }],
    ports: ports.map((p) => ({ name: p.name, protocol: p.protocol, port: HOST_PORT })),
  });
  const info: LabEgressInfo = { hostPort: HOST_PORT, dnsPort: DNS_PORT, hostService: { ...s, node: endpoint.name, nodeIp: endpoint.ip } };
  f.egress = info;
  return info;
}

type LabPod = LabFile['pods'][number];
const podId = (p: LabPod): string => `${p.namespace}/${p.name}`;
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One line from a "who am I talking to" listener, over TCP or UDP, retried briefly (flows settle after start). */
async function seenBy(netns: string, proto: 'tcp' | 'udp', ip: string, port: number, want: RegExp): Promise<{ ok: boolean; line: string }> {
  let line = '';
  for (let i = 0; i < 6; i++) {
    const args = proto === 'tcp' ? ['-N', '-w', '2', ip, String(port)] : ['-u', '-w', '1', ip, String(port)];
    const out = await run('nc', args, { netns, input: proto === 'tcp' ? '' : 'who\n', timeoutMs: 6000 }).catch((e: Error) => `error: ${e.message.split('\n')[0]}`);
    line = out.split('\n')[0]?.trim() ?? '';
    if (want.test(line)) return { ok: true, line };
    await sleep(500);
  }
  return { ok: false, line: line || '(no answer)' };
}

async function seenCheck(from: { id: string; netns: string }, to: string, proto: 'tcp' | 'udp', ip: string, port: number, name: string, source: string): Promise<CheckResult> {
  const want = new RegExp(`^${esc(name)} sees ${esc(source)}$`);
  const r = await seenBy(from.netns, proto, ip, port, want);
  return { kind: 'egress', from: from.id, to, target: `${ip}:${port}/${proto}`, ok: r.ok, detail: r.ok ? `${proto} ${r.line}` : `${proto} want "${name} sees ${source}", got ${r.line}` };
}

/** Pod on node N: own node IP (source kept), other node IPs (SNAT to N's IP), host service, external host. */
function podJobs(f: LabFile, p: LabPod): Array<Promise<CheckResult>> {
  const e = f.egress!;
  const g = f.gateway!;
  const own = f.nodes.find((n) => n.name === p.node)!;
  const from = { id: podId(p), netns: p.netns };
  // Own node: through the node's management port, the pod's own address. Elsewhere: through its node's GR.
  const sourceAt = (node: string): string => (node === p.node ? p.ip : own.ip);
  const jobs: Array<Promise<CheckResult>> = [];
  for (const n of f.nodes) {
    const to = `node ${n.name}${n.name === p.node ? ' (own)' : ''}`;
    jobs.push(pingCheck(p, n.ip, to).then((r) => ({ ...r, kind: 'egress' as const })));
    for (const proto of ['tcp', 'udp'] as const) jobs.push(seenCheck(from, to, proto, n.ip, e.hostPort, `${n.name}-host`, sourceAt(n.name)));
  }
  const s = e.hostService;
  const svc = `${s.namespace}/${s.name} (endpoint ${s.nodeIp}, hostNetwork on ${s.node})`;
  for (const proto of ['tcp', 'udp'] as const) jobs.push(seenCheck(from, svc, proto, s.clusterIP, s.port, `${s.node}-host`, sourceAt(s.node)));
  jobs.push(pingCheck(p, g.extIp, 'external-host').then((r) => ({ ...r, kind: 'egress' as const })));
  jobs.push(seenCheck(from, 'external-host', 'tcp', g.extIp, g.extPort, 'external-host', own.ip));
  jobs.push(seenCheck(from, 'external-host (DNS-style)', 'udp', g.extIp, e.dnsPort, 'external-dns', own.ip));
  // NodePort on every node, from the pods make lab's policy lets into the web pods: the own node's through its
  // switch's copy of the gateway load balancer, the others' through the pod's GR.
  if (p.labels?.role === 'client') {
    for (const gw of f.gateways ?? [g]) {
      const to = `default/web (NodePort on ${gw.node}${gw.node === p.node ? ', own node' : ''})`;
      jobs.push(tcpExchange(p.netns, gw.nodeIp, gw.nodePort).then((r) => ({ kind: 'egress' as const, from: from.id, to, target: `${gw.nodeIp}:${gw.nodePort}/tcp`,
        ok: r.ok && /^default\/web-/.test(r.server ?? ''), detail: r.ok ? `tcp ${r.detail} by ${r.server}` : `tcp ${r.detail}` })));
    }
  }
  return jobs;
}

/** Node's host netns: every pod (ping, TCP) and every ClusterIP service with pod backends. */
function nodeJobs(f: LabFile, n: LabFile['nodes'][number]): Array<Promise<CheckResult>> {
  const jobs: Array<Promise<CheckResult>> = [];
  const from = `node ${n.name}`;
  for (const p of f.pods) {
    jobs.push(pingCheck({ ...p, netns: n.netns }, p.ip, podId(p)).then((r) => ({ ...r, kind: 'egress' as const, from })));
    jobs.push(tcpExchange(n.netns, p.ip, 8080).then((r) => ({ kind: 'egress' as const, from, to: podId(p), target: `${p.ip}:8080/tcp`,
      ok: r.ok && r.server === podId(p), detail: r.ok ? `tcp ${r.detail}` : `tcp ${r.detail}` })));
  }
  for (const s of f.services.filter((x) => x.selector)) jobs.push(nodeServiceCheck(n, s));
  return jobs;
}

/** Several connections, so the node's own backends get their share (their replies must come back through OVN). */
async function nodeServiceCheck(n: LabFile['nodes'][number], s: LabFile['services'][number]): Promise<CheckResult> {
  const port = s.ports[0]!;
  const base = { kind: 'egress' as const, from: `node ${n.name}`, to: `${s.namespace}/${s.name}`, target: `${s.clusterIP}:${port.port}/tcp` };
  const servers: string[] = [];
  for (let i = 0; i < NODE_SERVICE_TRIES; i++) {
    const r = await tcpExchange(n.netns, s.clusterIP, port.port);
    if (!r.ok) return { ...base, ok: false, detail: `tcp connection ${i + 1} (after ${servers.join(', ') || 'none'}): ${r.detail}` };
    servers.push(r.server ?? '?');
  }
  return { ...base, ok: true, detail: `tcp ${NODE_SERVICE_TRIES} connections answered by ${[...new Set(servers)].sort().join(', ')}` };
}

export async function egressChecks(f: LabFile): Promise<CheckResult[]> {
  if (!f.egress || !f.gateway) return [];
  return Promise.all([...f.pods.flatMap((p) => podJobs(f, p)), ...f.nodes.flatMap((n) => nodeJobs(f, n))]);
}
