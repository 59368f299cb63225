// The isolation matrix of the per-tenant lab, with real packets (ping and TCP each way): every pod with every VM,
// every pod with the other cluster's pods, every VM with the other tenant's VMs. A tenant's VMs and its own cluster's
// pods must reach each other; everything across tenants must not. A check is ok when what happened is what must.
import type { MultiClusterLabFile } from '../lab-file.js';
import { run } from '../exec.js';
import { POD_SERVER_PORT, tcpExchange, type CheckResult } from '../report.js';
import type { OpenstackTenant } from './ic-az.js';

interface End {
  /** Report name: "az1:default/web-1", "B:vm/vm-b1". */
  id: string;
  /** Matrix group: "cluster az1 pods", "tenant B VMs". */
  group: string;
  netns: string;
  ip: string;
  /** What the demo server answers with: "<ns>/<pod>" or "vm/<name>". */
  server: string;
  tenant: string;
}

async function pings(netns: string, ip: string, deadlineS: number): Promise<boolean> {
  try {
    await run('ping', ['-n', '-q', '-c', '2', '-i', '0.2', '-w', String(deadlineS), ip], { netns, timeoutMs: (deadlineS + 3) * 1000 });
    return true;
  } catch {
    return false;
  }
}

/** One direction; a path that must be blocked gets short deadlines (a reply would come in milliseconds). */
async function probe(from: End, to: End): Promise<CheckResult> {
  const must = from.tenant === to.tenant;
  const [ping, tcp] = await Promise.all([pings(from.netns, to.ip, must ? 5 : 3), tcpExchange(from.netns, to.ip, POD_SERVER_PORT, must ? 5 : 2)]);
  const tcpReached = tcp.ok && tcp.server === to.server;
  const ok = ping === must && tcpReached === must && (must || !tcp.server);
  const word = (reached: boolean): string => (reached ? 'reached' : 'blocked');
  return { kind: 'openstack', from: from.id, to: to.id, target: to.ip, ok,
    detail: `${must ? 'must reach' : 'must be blocked'}: ping ${word(ping)}, tcp ${word(tcpReached)}${tcp.server && !tcpReached ? ` (answered by ${tcp.server})` : ''}` };
}

function ends(f: MultiClusterLabFile, tenants: OpenstackTenant[]): { pods: End[]; vms: End[] } {
  const pods = tenants.flatMap((t) => {
    const c = f.clusters.find((x) => x.name === t.cluster);
    return (c?.pods ?? []).map((p) => ({ id: `${t.cluster}:${p.namespace}/${p.name}`, group: `cluster ${t.cluster} pods`, netns: p.netns, ip: p.ip,
      server: `${p.namespace}/${p.name}`, tenant: t.name }));
  });
  const vms = tenants.flatMap((t) => t.vms.map((v) => ({ id: `${t.name}:vm/${v.name}`, group: `tenant ${t.name} VMs`, netns: v.netns, ip: v.ip,
    server: `vm/${v.name}`, tenant: t.name })));
  return { pods, vms };
}

export async function tenantMatrixChecks(f: MultiClusterLabFile): Promise<CheckResult[]> {
  const tenants = f.openstack?.tenants ?? [];
  const { pods, vms } = ends(f, tenants);
  const pairs: Array<[End, End]> = [];
  for (const p of pods) for (const v of vms) pairs.push([p, v], [v, p]);
  for (const a of pods) for (const b of pods) if (a.tenant !== b.tenant) pairs.push([a, b]);
  for (const a of vms) for (const b of vms) if (a.tenant !== b.tenant) pairs.push([a, b]);
  // Bounded concurrency: each probe runs a ping and an nc in a netns, and this machine has few cores.
  const out: CheckResult[] = [];
  for (let i = 0; i < pairs.length; i += 16) out.push(...await Promise.all(pairs.slice(i, i + 16).map(([a, b]) => probe(a, b))));
  return out;
}

/** The matrix by group (rows: from, columns: to), each cell "reach n/m" or "blocked n/m", then every failed probe. */
export function formatTenantMatrix(f: MultiClusterLabFile, checks: CheckResult[]): string[] {
  const tenants = f.openstack?.tenants ?? [];
  const { pods, vms } = ends(f, tenants);
  const all = [...pods, ...vms];
  const groupOf = new Map(all.map((e) => [e.id, e]));
  const groups = [...new Set(all.map((e) => e.group))];
  const mine = checks.filter((c) => c.kind === 'openstack' && groupOf.has(c.from) && groupOf.has(c.to));
  const lines = [`Tenant isolation matrix (ping and TCP, performed just now; tenant A: ${tenantLine(tenants[0])}; tenant B: ${tenantLine(tenants[1])}):`];
  const w = Math.max(...groups.map((g) => g.length));
  lines.push(`  ${'from \\ to'.padEnd(w)}  ${groups.map((g) => g.padEnd(w)).join('  ')}`);
  for (const g of groups) {
    const cells = groups.map((h) => {
      const cs = mine.filter((c) => groupOf.get(c.from)!.group === g && groupOf.get(c.to)!.group === h);
      if (!cs.length) return '-'.padEnd(w);
      const must = groupOf.get(cs[0]!.from)!.tenant === groupOf.get(cs[0]!.to)!.tenant;
      return `${cs.every((c) => c.ok) ? 'ok' : 'FAIL'} ${must ? 'reach' : 'blocked'} ${cs.filter((c) => c.ok).length}/${cs.length}`.padEnd(w);
    });
    lines.push(`  ${g.padEnd(w)}  ${cells.join('  ')}`);
  }
  for (const c of mine.filter((x) => !x.ok)) lines.push(`  FAIL ${c.from} -> ${c.to} ${c.target}: ${c.detail}`);
  return lines;
}

const tenantLine = (t: OpenstackTenant | undefined): string =>
  t ? `project ${t.project}, ${t.routers.map((r) => r.name).join(',')} on transit switch ${t.ts} with cluster ${t.cluster}` : 'none';

/** The OpenStack part of the per-tenant lab's report: each tenant's router, networks and VMs, then the matrix. */
export function formatTenantReport(f: MultiClusterLabFile, checks: CheckResult[]): string[] {
  const os = f.openstack!;
  const lines = [`OpenStack AZ ${os.az ?? ''} (OVN-IC, one router and transit switch per tenant): a real neutron-server in ${os.netns}, API ${os.neutronUrl} ` +
    `(noauth; from the host: curl --unix-socket ${os.neutronSocket} -H 'X-Project-Id: <project>' http://x/v2.0/routers)`];
  for (const t of os.tenants ?? []) {
    lines.push(`  tenant ${t.name} (project ${t.project}) <-> cluster ${t.cluster} through transit switch ${t.ts}`);
    for (const r of t.routers) lines.push(`    router ${r.name} ${r.id} (NB ${r.ovnName})`);
    for (const n of t.networks) lines.push(`    network ${n.name} ${n.id} ${n.cidr}`);
    for (const v of t.vms) lines.push(`    VM ${v.name} ${v.ip} (${v.mac}) netns ${v.netns}, Neutron port ${v.portId} bound on ${v.node}`);
  }
  return [...lines, ...formatTenantMatrix(f, checks)];
}
