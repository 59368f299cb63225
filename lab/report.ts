// Reachability checks the lab performs for real (ping, TCP bytes both ways, service VIP), and the printed report.
import { run } from './exec.js';
import type { LabFile } from './lab-file.js';

export const POD_SERVER_PORT = 8080;
const TCP_BYTES = 100_000;

export interface CheckResult {
  kind: 'ping' | 'tcp' | 'service';
  from: string;
  to: string;
  ok: boolean;
  detail: string;
}

type LabPod = LabFile['pods'][number];
const podId = (p: LabPod): string => `${p.namespace}/${p.name}`;

/** Ping from a pod; tolerates a lost first packet (tunnel ARP) by asking for 2 replies within a deadline. */
export async function pingCheck(from: LabPod, toIp: string, toName: string): Promise<CheckResult> {
  const r: CheckResult = { kind: 'ping', from: podId(from), to: `${toName} ${toIp}`, ok: false, detail: '' };
  try {
    const out = await run('ping', ['-n', '-q', '-c', '2', '-i', '0.2', '-w', '5', toIp], { netns: from.netns, timeoutMs: 8_000 });
    const rtt = /= [\d.]+\/([\d.]+)\//.exec(out);
    r.ok = true;
    r.detail = rtt ? `rtt avg ${rtt[1]} ms` : 'replies received';
  } catch (err) {
    r.detail = (err as Error).message.split('\n')[0].slice(0, 160);
  }
  return r;
}

/** Sends TCP_BYTES to the pod server at ip:port and expects its greeting plus the byte count back. */
export async function tcpExchange(netns: string, ip: string, port: number): Promise<{ ok: boolean; server?: string; detail: string }> {
  try {
    const out = await run('nc', ['-N', '-w', '5', ip, String(port)], { netns, input: 'x'.repeat(TCP_BYTES), timeoutMs: 10_000 });
    const hello = /^hello from (\S+)$/m.exec(out);
    const got = /received (\d+) bytes/.exec(out);
    if (hello && got && Number(got[1]) === TCP_BYTES) return { ok: true, server: hello[1], detail: `${TCP_BYTES} bytes sent, count + greeting received` };
    return { ok: false, server: hello?.[1], detail: `unexpected reply: ${JSON.stringify(out.slice(0, 120))}` };
  } catch (err) {
    return { ok: false, detail: (err as Error).message.split('\n')[0].slice(0, 160) };
  }
}

export async function tcpCheck(from: LabPod, to: LabPod): Promise<CheckResult> {
  const r = await tcpExchange(from.netns, to.ip, POD_SERVER_PORT);
  const ok = r.ok && r.server === podId(to);
  return { kind: 'tcp', from: podId(from), to: `${podId(to)} ${to.ip}:${POD_SERVER_PORT}`, ok, detail: ok ? r.detail : r.ok ? `answered by ${r.server}` : r.detail };
}

export async function serviceCheck(from: LabPod, svc: LabFile['services'][number]): Promise<CheckResult> {
  const port = svc.ports[0];
  const to = `${svc.namespace}/${svc.name} ${svc.clusterIP}:${port?.port}`;
  if (!port) return { kind: 'service', from: podId(from), to, ok: false, detail: 'service has no ports' };
  const r = await tcpExchange(from.netns, svc.clusterIP, port.port);
  return { kind: 'service', from: podId(from), to, ok: r.ok, detail: r.ok ? `answered by ${r.server}` : r.detail };
}

/** Every pod pings and talks TCP to every other pod, and reaches every service. */
export async function runChecks(lab: LabFile, opts: { servers: boolean }): Promise<CheckResult[]> {
  const jobs: Array<Promise<CheckResult>> = [];
  for (const a of lab.pods) {
    for (const b of lab.pods) {
      if (a === b) continue;
      jobs.push(pingCheck(a, b.ip, podId(b)));
      if (opts.servers) jobs.push(tcpCheck(a, b));
    }
    if (opts.servers) for (const s of lab.services) jobs.push(serviceCheck(a, s));
  }
  return Promise.all(jobs);
}

export function formatReport(lab: LabFile, checks: CheckResult[], elapsedMs: number): string {
  const c = lab.components;
  const lines: string[] = [];
  const w = Math.max(lab.central.netns.length, ...lab.nodes.map((n) => n.netns.length), ...lab.pods.map((p) => p.netns.length)) + 1;
  lines.push(`Tessera lab (netns prefix "${lab.prefix}") up in ${(elapsedMs / 1000).toFixed(1)} s`);
  lines.push(`  NB/SB wiring by: ${c.watcher ? 'tessera-watcher' : 'lab script logic (ovn-nbctl)'}; pods wired by: ${c.agent ? 'cnitool -> tessera-cni -> tessera-agent' : 'lab script logic (veth + ovs-vsctl)'}`);
  const central = ['NB', 'SB', 'ovn-northd', ...(lab.apiserver ? ['apiserver'] : []), ...(c.watcher ? ['tessera-watcher'] : [])];
  lines.push(`  ${lab.central.netns.padEnd(w)} ${lab.central.ip.padEnd(15)} ${central.join(', ')}  (NB ${lab.nb.remotes.join(' ')}, SB ${lab.sb.remotes.join(' ')})`);
  if (lab.apiserver) lines.push(`  ${''.padEnd(w)} ${''.padEnd(15)} apiserver ${lab.apiserver.url} (root netns: ${lab.apiserver.unixSocket})`);
  for (const n of lab.nodes) {
    const d = ['ovsdb-server', 'ovs-vswitchd (netdev)', 'ovn-controller (geneve)', ...(c.agent ? ['tessera-agent'] : [])];
    lines.push(`  ${n.netns.padEnd(w)} ${n.ip.padEnd(15)} node ${n.name}, subnet ${n.subnet}: ${d.join(', ')}`);
  }
  for (const p of lab.pods) lines.push(`  ${p.netns.padEnd(w)} ${p.ip.padEnd(15)} pod ${p.namespace}/${p.name} on ${p.node}`);
  for (const s of lab.services) lines.push(`  service ${s.namespace}/${s.name} ${s.clusterIP} ${s.ports.map((p) => `${p.port}->${p.targetPort}/${p.protocol}`).join(' ')}`);
  const passed = checks.filter((x) => x.ok).length;
  lines.push(`Reachability, performed just now: ${passed}/${checks.length} ok`);
  for (const x of checks) lines.push(`  ${x.ok ? 'ok  ' : 'FAIL'} ${x.kind.padEnd(7)} ${x.from} -> ${x.to}: ${x.detail}`);
  return lines.join('\n');
}
