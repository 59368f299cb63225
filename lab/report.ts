// Reachability checks the lab performs for real (ping, TCP bytes both ways, service VIP), and the printed report.
import { run } from './exec.js';
import type { LabFile } from './lab-file.js';
import { selectorText, verdict, type PolicyVerdict } from './policy.js';

export const POD_SERVER_PORT = 8080;
const TCP_BYTES = 100_000;
const SERVICE_TRIES = 4;

export interface CheckResult {
  kind: 'ping' | 'tcp' | 'service' | 'policy' | 'gateway' | 'cluster' | 'egress' | 'openstack';
  /** "<ns>/<pod>" */
  from: string;
  /** "<ns>/<pod>" or "<ns>/<service>" */
  to: string;
  /** What was dialled: IP, or IP:port. */
  target: string;
  ok: boolean;
  detail: string;
}

type LabPod = LabFile['pods'][number];
const podId = (p: LabPod): string => `${p.namespace}/${p.name}`;

/** Ping from a netns; tolerates a lost first packet (tunnel ARP) by asking for 2 replies within a deadline. */
export async function ping(netns: string, ip: string): Promise<{ ok: boolean; detail: string }> {
  try {
    const out = await run('ping', ['-n', '-q', '-c', '2', '-i', '0.2', '-w', '5', ip], { netns, timeoutMs: 8_000 });
    const rtt = /= [\d.]+\/([\d.]+)\//.exec(out);
    return { ok: true, detail: rtt ? `rtt ${rtt[1]} ms` : 'replies received' };
  } catch (err) {
    return { ok: false, detail: (err as Error).message.split('\n')[0].slice(0, 160) };
  }
}

/** An end of a probe: its name in the report, the netns it runs in and its address. */
export interface ProbeEnd { id: string; netns: string; ip: string }

/** A probe that must fail: no ping reply within 2 s and no TCP answer from the pod server. */
export async function deniedCheck(from: ProbeEnd, to: ProbeEnd): Promise<CheckResult> {
  let pinged = false;
  try {
    await run('ping', ['-n', '-q', '-c', '1', '-w', '2', to.ip], { netns: from.netns, timeoutMs: 5_000 });
    pinged = true;
  } catch {
    /* expected */
  }
  const tcp = await tcpExchange(from.netns, to.ip, POD_SERVER_PORT, 2);
  const ok = !pinged && !tcp.ok;
  return { kind: 'policy', from: from.id, to: to.id, target: to.ip, ok, detail: ok ? 'isolated: no ping reply, no TCP answer' : `reached (${pinged ? 'ping' : `TCP answered by ${tcp.server}`})` };
}

/** Ping from a pod (see ping). */
export async function pingCheck(from: LabPod, toIp: string, toName: string): Promise<CheckResult> {
  return { kind: 'ping', from: podId(from), to: toName, target: toIp, ...(await ping(from.netns, toIp)) };
}

/** Sends TCP_BYTES to the pod server at ip:port and expects its greeting plus the byte count back. */
export async function tcpExchange(netns: string, ip: string, port: number, waitS = 5): Promise<{ ok: boolean; server?: string; detail: string }> {
  try {
    const out = await run('nc', ['-N', '-w', String(waitS), ip, String(port)], { netns, input: 'x'.repeat(TCP_BYTES), timeoutMs: (waitS + 5) * 1000 });
    const hello = /^hello from (\S+)$/m.exec(out);
    const got = /received (\d+) bytes/.exec(out);
    if (hello && got && Number(got[1]) === TCP_BYTES) return { ok: true, server: hello[1], detail: `${TCP_BYTES / 1000} kB sent, reply received` };
    return { ok: false, server: hello?.[1], detail: `unexpected reply: ${JSON.stringify(out.slice(0, 120))}` };
  } catch (err) {
    return { ok: false, detail: (err as Error).message.split('\n')[0].slice(0, 160) };
  }
}

export async function tcpCheck(from: LabPod, to: LabPod): Promise<CheckResult> {
  const r = await tcpExchange(from.netns, to.ip, POD_SERVER_PORT);
  const ok = r.ok && r.server === podId(to);
  return { kind: 'tcp', from: podId(from), to: podId(to), target: `${to.ip}:${POD_SERVER_PORT}`, ok, detail: ok ? r.detail : r.ok ? `answered by ${r.server}` : r.detail };
}

export async function serviceCheck(from: LabPod, svc: LabFile['services'][number]): Promise<CheckResult> {
  const port = svc.ports[0];
  const to = `${svc.namespace}/${svc.name}`;
  if (!port) return { kind: 'service', from: podId(from), to, target: svc.clusterIP, ok: false, detail: 'service has no ports' };
  // A few connections, to show the load balancer spreading them over backends.
  const servers = new Set<string>();
  for (let i = 0; i < SERVICE_TRIES; i++) {
    const r = await tcpExchange(from.netns, svc.clusterIP, port.port);
    if (!r.ok) return { kind: 'service', from: podId(from), to, target: `${svc.clusterIP}:${port.port}`, ok: false, detail: `connection ${i + 1}: ${r.detail}` };
    if (r.server) servers.add(r.server);
  }
  return { kind: 'service', from: podId(from), to, target: `${svc.clusterIP}:${port.port}`, ok: true, detail: `${SERVICE_TRIES} connections answered by ${[...servers].sort().join(', ')}` };
}

/** Seconds a connection the policy denies is given before the check calls it denied. */
export const DENIED_WAIT_S = 2;

const policyNames = (v: PolicyVerdict): string => v.policies.map((p) => `${p.namespace}/${p.name}`).join(', ');

/**
 * A connection a NetworkPolicy decides: TCP to the pod server, which must complete when the policy allows it and
 * must not when it denies it (ok then means "denied, as the policy says").
 */
export async function policyCheck(from: LabPod, to: { id: string; ip: string; port: number; server?: string }, v: PolicyVerdict): Promise<CheckResult> {
  const base = { kind: 'policy' as const, from: podId(from), to: to.id, target: `${to.ip}:${to.port}` };
  if (v.tcp) {
    const r = await tcpExchange(from.netns, to.ip, to.port);
    const ok = r.ok && (to.server === undefined || r.server === to.server);
    return { ...base, ok, detail: ok ? `allowed by ${policyNames(v)}: ${r.detail}` : `should be allowed by ${policyNames(v)}: ${r.ok ? `answered by ${r.server}` : r.detail}` };
  }
  const r = await tcpExchange(from.netns, to.ip, to.port, DENIED_WAIT_S);
  return { ...base, ok: !r.ok, detail: r.ok ? `connected although ${policyNames(v)} should deny it` : `denied by ${policyNames(v)} (no TCP connection within ${DENIED_WAIT_S} s)` };
}

/**
 * Every pod pings and talks TCP to every other pod, and reaches every service. Pods isolated by the lab's
 * NetworkPolicies get a policy check instead: TCP that must pass or must be refused, as the policies say.
 */
export async function runChecks(lab: LabFile, opts: { servers: boolean }): Promise<CheckResult[]> {
  const policies = lab.policies ?? [];
  const jobs: Array<Promise<CheckResult>> = [];
  for (const a of lab.pods) {
    for (const b of lab.pods) {
      if (a === b) continue;
      const v = verdict(policies, a, b, POD_SERVER_PORT);
      if (v.policies.length > 0) {
        if (opts.servers) jobs.push(policyCheck(a, { id: podId(b), ip: b.ip, port: POD_SERVER_PORT, server: podId(b) }, v));
        continue;
      }
      jobs.push(pingCheck(a, b.ip, podId(b)));
      if (opts.servers) jobs.push(tcpCheck(a, b));
    }
    if (!opts.servers) continue;
    for (const s of lab.services) {
      // Through the VIP the policy sees the backend: check it only when every backend agrees on the verdict.
      const backends = lab.pods.filter((b) => s.selector && Object.entries(s.selector).every(([k, v]) => b.labels?.[k] === v));
      const vs = backends.map((b) => verdict(policies, a, b, POD_SERVER_PORT));
      const isolated = vs.filter((v) => v.policies.length > 0);
      if (isolated.length === 0 || vs.every((v) => v.tcp)) jobs.push(serviceCheck(a, s));
      else if (vs.every((v) => !v.tcp)) jobs.push(policyCheck(a, { id: `${s.namespace}/${s.name}`, ip: s.clusterIP, port: s.ports[0]?.port ?? 0 }, isolated[0]));
    }
  }
  return Promise.all(jobs);
}

/** Facts the lab measured while starting, for the report. */
export interface StartFigures {
  /** Per pod ("<ns>/<pod>"): ms from handing the pod to its wiring (cnitool ADD) to ovn-installed/result. */
  podWiringMs?: Record<string, number>;
}

export function formatReport(lab: LabFile, checks: CheckResult[], elapsedMs: number | undefined, figures: StartFigures = {}): string {
  const lines: string[] = [];
  const w = Math.max(lab.central.netns.length, ...lab.nodes.map((n) => n.netns.length), ...lab.pods.map((p) => p.netns.length)) + 1;
  lines.push(`Tessera lab (netns prefix "${lab.prefix}")${elapsedMs === undefined ? '' : ` up in ${(elapsedMs / 1000).toFixed(1)} s`}. ` +
    'NB by tessera-watcher; pods by cnitool -> tessera-cni -> tessera-agent.');
  const central = ['NB', 'SB', 'ovn-northd', ...(lab.apiserver ? [`apiserver ${lab.apiserver.url}`] : []), 'tessera-watcher'];
  lines.push(`  ${lab.central.netns.padEnd(w)} ${lab.central.ip.padEnd(15)} ${central.join(', ')}`);
  for (const n of lab.nodes) {
    const d = ['ovsdb-server', 'ovs-vswitchd (netdev)', 'ovn-controller (geneve)', 'tessera-agent'];
    lines.push(`  ${n.netns.padEnd(w)} ${n.ip.padEnd(15)} ${n.name} ${n.subnet}: ${d.join(', ')}`);
  }
  for (const p of lab.pods) {
    const ms = figures.podWiringMs?.[`${p.namespace}/${p.name}`];
    lines.push(`  ${p.netns.padEnd(w)} ${p.ip.padEnd(15)} pod ${p.namespace}/${p.name} on ${p.node}${ms === undefined ? '' : ` (CNI ADD in ${ms} ms)`}`);
  }
  for (const s of lab.services) lines.push(`  service ${s.namespace}/${s.name} ${s.clusterIP} ${s.ports.map((p) => `${p.port}->${p.targetPort}/${p.protocol}`).join(' ')}`);
  for (const p of lab.policies ?? []) {
    lines.push(`  network policy ${p.namespace}/${p.name}: pods ${selectorText(p.podSelector)} accept TCP ${p.port} only from pods ${selectorText(p.from)}` +
      `${p.fromCidrs?.length ? ` and ${p.fromCidrs.join(', ')} (the gateway's NodePort SNAT)` : ''}; ICMP and other ports denied`);
  }
  if (lab.gateway) {
    const g = lab.gateway;
    const gws = (lab.gateways ?? [g]).map((x) => `${x.node} ${x.nodeIp}`).join(', ');
    lines.push(`  gateways ${gws} (tessera-gateway run, shared NIC ${g.bridge}; pods leave SNATed to their node's IP); external host ${g.extNetns} ${g.extIp}; NodePort ${g.nodePort} for default/web`);
  }
  if (lab.egress) {
    const e = lab.egress;
    const s = e.hostService;
    lines.push(`  egress matrix: a TCP+UDP listener on :${e.hostPort} in every node's host netns; service ${s.namespace}/${s.name} ${s.clusterIP}:${s.port} -> ${s.node} ${s.nodeIp}:${e.hostPort} (hostNetwork endpoint); DNS-style UDP :${e.dnsPort} on the external host`);
  }
  const passed = checks.filter((x) => x.ok).length;
  lines.push(`Reachability, performed just now: ${passed}/${checks.length} checks ok`);
  // One line per (from, to): the ping and the TCP exchange between the same pods side by side.
  const nodeOf = new Map(lab.pods.map((p) => [podId(p), p.node]));
  const pairs = new Map<string, CheckResult[]>();
  for (const x of checks) {
    const k = `${x.from} -> ${x.to}`;
    pairs.set(k, [...(pairs.get(k) ?? []), x]);
  }
  for (const [k, xs] of pairs) {
    const ok = xs.every((x) => x.ok);
    const from = nodeOf.get(xs[0].from) ?? xs[0].from.replace(/^node /, '');
    const to = nodeOf.get(xs[0].to);
    const where = to ? ` (${from === to ? `same node ${from}` : `${from} -> ${to}`})` : ` ${xs[0].target}`;
    lines.push(`  ${ok ? 'ok  ' : 'FAIL'} ${k}${where}: ${xs.map((x) => `${x.kind} ${x.ok ? '' : 'FAILED '}${x.detail}`).join('; ')}`);
  }
  return lines.join('\n');
}
