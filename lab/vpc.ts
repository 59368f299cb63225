// `make lab LAB_ARGS=--vpc`: two custom Vpcs whose Subnets overlap (10.50.0.0/24 each; excludeIps keep their
// pod addresses apart, so a cross-Vpc probe dials an address the other Vpc really uses), a pod of each on every
// node, and the isolation matrix: inside a Vpc everything answers, nothing crosses between the Vpcs or to and
// from the default network.
import type { Lab, LabPod } from './cluster.js';
import type { CheckResult } from './report.js';
import { POD_SERVER_PORT, pingCheck, tcpCheck, tcpExchange } from './report.js';
import { run } from './exec.js';
import { waitFor } from './wait.js';
import { kubectlGet } from './kube-get.js';

export const VPC_LAB = [
  { vpc: 'vpc-a', subnet: 'subnet-a', namespace: 'vpc-a', cidrBlock: '10.50.0.0/24', excludeIps: ['10.50.0.100..10.50.0.254'] },
  { vpc: 'vpc-b', subnet: 'subnet-b', namespace: 'vpc-b', cidrBlock: '10.50.0.0/24', excludeIps: ['10.50.0.2..10.50.0.99'] },
] as const;

const id = (p: LabPod): string => `${p.namespace}/${p.name}`;

export interface VpcLab {
  /** The Vpc pods by Vpc name. */
  pods: Record<string, LabPod[]>;
  check(): Promise<CheckResult[]>;
  listings(): Promise<string>;
}

/** Waits until a Subnet's Ready condition is True (its switch and router link are in NB). */
export async function subnetReady(lab: Lab, name: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(`Subnet ${name} Ready`, async () => {
    const s = await lab.kube!.get<{ metadata: Record<string, unknown>; status?: { conditions?: Array<{ type: string; status: string }> } }>(`/apis/kubeovn.io/v1/subnets/${name}`).catch(() => undefined);
    return s?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  }, timeoutMs);
}

/** A probe that must fail: ping with a short deadline, and TCP to the pod server. */
async function deniedCheck(from: LabPod, to: LabPod): Promise<CheckResult> {
  let pinged = false;
  try {
    await run('ping', ['-n', '-q', '-c', '1', '-w', '2', to.ip], { netns: from.netns, timeoutMs: 5_000 });
    pinged = true;
  } catch {
    /* expected */
  }
  const tcp = await tcpExchange(from.netns, to.ip, POD_SERVER_PORT, 2);
  const ok = !pinged && !tcp.ok;
  return { kind: 'policy', from: id(from), to: id(to), target: to.ip, ok, detail: ok ? 'isolated: no ping reply, no TCP answer' : `reached (${pinged ? 'ping' : `TCP answered by ${tcp.server}`})` };
}

/** Creates the two Vpcs, their Subnets bound to one Namespace each, and a pod of each Vpc on every node. */
export async function addVpcLab(lab: Lab, log: (m: string) => void = () => undefined): Promise<VpcLab> {
  const kube = lab.kube;
  if (!kube) throw new Error('--vpc needs the API test server and tessera-watcher');
  const nodes = lab.file.nodes.map((n) => n.name);
  for (const v of VPC_LAB) {
    await kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: v.namespace } });
    await kube.create('/apis/kubeovn.io/v1/vpcs', { apiVersion: 'kubeovn.io/v1', kind: 'Vpc', metadata: { name: v.vpc }, spec: {} });
    await kube.create('/apis/kubeovn.io/v1/subnets', { apiVersion: 'kubeovn.io/v1', kind: 'Subnet', metadata: { name: v.subnet },
      spec: { vpc: v.vpc, cidrBlock: v.cidrBlock, excludeIps: [...v.excludeIps], namespaces: [v.namespace] } });
  }
  for (const v of VPC_LAB) await subnetReady(lab, v.subnet);
  log(`Vpcs ${VPC_LAB.map((v) => `${v.vpc} (${v.subnet} ${v.cidrBlock})`).join(', ')}: pods on ${nodes.join(', ')}`);
  const pods: Record<string, LabPod[]> = {};
  for (const v of VPC_LAB) {
    pods[v.vpc] = [];
    for (const [i, n] of nodes.entries()) pods[v.vpc].push(await lab.addPod({ namespace: v.namespace, name: `${v.vpc.slice(-1)}${i + 1}`, node: n }));
  }
  const defaults = (): LabPod[] => lab.file.pods.filter((p) => !VPC_LAB.some((v) => v.namespace === p.namespace) && p.namespace === 'default');
  return {
    pods,
    check: async () => {
      const out: CheckResult[] = [];
      const all = Object.values(pods).flat();
      for (const a of all) {
        for (const b of all) {
          if (a === b) continue;
          const same = a.namespace === b.namespace;
          if (same) out.push(await pingCheck(a, b.ip, id(b)), await tcpCheck(a, b));
          else out.push(await deniedCheck(a, b));
        }
        const d = defaults()[0];
        if (d) out.push(await deniedCheck(a, d), await deniedCheck(d, a));
      }
      return out;
    },
    listings: async () => `$ kubectl get vpc\n${await kubectlGet(kube, 'vpcs')}\n$ kubectl get subnet\n${await kubectlGet(kube, 'subnets')}`,
  };
}

/** The isolation matrix: rows from, columns to; "ok" reached, "--" isolated (as expected unless marked FAIL). */
export function formatVpcMatrix(vl: VpcLab, checks: CheckResult[], defaultPod?: string): string {
  const names = [...Object.values(vl.pods).flat().map(id), ...(defaultPod ? [defaultPod] : [])];
  const cellOf = (f: string, t: string): string => {
    if (f === t) return '·';
    const cs = checks.filter((c) => c.from === f && c.to === t);
    if (!cs.length) return '';
    const bad = cs.some((c) => !c.ok);
    const reach = cs.some((c) => c.kind !== 'policy');
    return `${reach ? 'ok' : '--'}${bad ? ' FAIL' : ''}`;
  };
  const rows = [['from \\ to', ...names], ...names.map((f) => [f, ...names.map((t) => cellOf(f, t))])];
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(w[i] + 2)).join('').trimEnd()).join('\n');
}

/** The --vpc step of `make lab`: adds the Vpcs, prints the listings and the isolation matrix, returns the checks. */
export async function vpcStep(lab: Lab, log: (m: string) => void, out: (s: string) => void): Promise<CheckResult[]> {
  const vl = await addVpcLab(lab, log);
  const checks = await vl.check();
  const client = lab.file.pods.find((p) => p.namespace === 'default');
  const bad = checks.filter((c) => !c.ok);
  out(`\n${await vl.listings()}\n\nVpc isolation matrix (ok: ping and TCP answered; --: isolated, no ping reply nor TCP answer):\n` +
    `${formatVpcMatrix(vl, checks, client ? id(client) : undefined)}\n${bad.length ? bad.map((c) => `FAIL ${c.from} -> ${c.to} (${c.target}): ${c.detail}`).join('\n') : `all ${checks.length} Vpc checks as expected`}\n`);
  return checks;
}
