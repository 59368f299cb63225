// `make lab LAB_ARGS=--vpc`: two custom Vpcs whose Subnets overlap (10.50.0.0/24 each; excludeIps keep their
// pod addresses apart, so a cross-Vpc probe dials an address the other Vpc really uses), a pod of each on every
// node, and the isolation matrix: inside a Vpc everything answers, nothing crosses between the Vpcs or to and
// from the default network.
// As a lab step (make lab --vpc) the Vpc pods go to lab.json's vpcs[], not pods[], so the default network's
// checks do not expect to reach them.
import type { Lab, LabPod } from './cluster.js';
import type { UnixKubeClient } from './kube.js';
import { need, type LabContext, type LabStep } from './lab-context.js';
import type { LabFile } from './lab-file.js';
import { bringUpPod } from './pod-lifecycle.js';
import type { LabPodSpec } from './pods.js';
import type { CheckResult } from './report.js';
import { deniedCheck, pingCheck, tcpCheck, type ProbeEnd } from './report.js';
import { waitFor } from './wait.js';
import { kubectlGet } from './kube-get.js';

export const VPC_LAB = [
  { vpc: 'vpc-a', subnet: 'subnet-a', namespace: 'vpc-a', cidrBlock: '10.50.0.0/24', excludeIps: ['10.50.0.100..10.50.0.254'] },
  { vpc: 'vpc-b', subnet: 'subnet-b', namespace: 'vpc-b', cidrBlock: '10.50.0.0/24', excludeIps: ['10.50.0.2..10.50.0.99'] },
] as const;

const id = (p: LabPod): string => `${p.namespace}/${p.name}`;
const end = (p: LabPod): ProbeEnd => ({ id: id(p), netns: p.netns, ip: p.ip });

export interface VpcLab {
  /** The Vpc pods by Vpc name. */
  pods: Record<string, LabPod[]>;
  check(): Promise<CheckResult[]>;
  listings(): Promise<string>;
}

/** Waits until a Subnet's Ready condition is True (its switch and router link are in NB). */
export async function subnetReady(lab: Pick<Lab, 'kube'>, name: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(`Subnet ${name} Ready`, async () => {
    const s = await lab.kube.get<{ metadata: Record<string, unknown>; status?: { conditions?: Array<{ type: string; status: string }> } }>(`/apis/kubeovn.io/v1/subnets/${name}`).catch(() => undefined);
    return s?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  }, timeoutMs);
}

/** What creating the Vpc lab needs: the API, the node names and a way to start a pod. */
interface VpcHost {
  kube: UnixKubeClient;
  nodes: string[];
  addPod(p: LabPodSpec): Promise<LabPod>;
}

/** Creates the two Vpcs, their Subnets bound to one Namespace each, and a pod of each Vpc on every node. */
async function createVpcs(h: VpcHost, log: (m: string) => void): Promise<Record<string, LabPod[]>> {
  for (const v of VPC_LAB) {
    await h.kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: v.namespace } });
    await h.kube.create('/apis/kubeovn.io/v1/vpcs', { apiVersion: 'kubeovn.io/v1', kind: 'Vpc', metadata: { name: v.vpc }, spec: {} });
    await h.kube.create('/apis/kubeovn.io/v1/subnets', { apiVersion: 'kubeovn.io/v1', kind: 'Subnet', metadata: { name: v.subnet },
      spec: { vpc: v.vpc, cidrBlock: v.cidrBlock, excludeIps: [...v.excludeIps], namespaces: [v.namespace] } });
  }
  for (const v of VPC_LAB) await subnetReady(h, v.subnet);
  log(`Vpcs ${VPC_LAB.map((v) => `${v.vpc} (${v.subnet} ${v.cidrBlock})`).join(', ')}: pods on ${h.nodes.join(', ')}`);
  const pods: Record<string, LabPod[]> = {};
  for (const v of VPC_LAB) {
    pods[v.vpc] = [];
    for (const [i, n] of h.nodes.entries()) pods[v.vpc].push(await h.addPod({ namespace: v.namespace, name: `${v.vpc.slice(-1)}${i + 1}`, node: n }));
  }
  return pods;
}

/** Inside a Vpc: ping and TCP between every pair; across Vpcs, and to and from a default-network pod: nothing. */
export async function vpcChecks(pods: Record<string, LabPod[]>, defaultPod?: LabPod): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const all = Object.values(pods).flat();
  for (const a of all) {
    for (const b of all) {
      if (a === b) continue;
      const same = a.namespace === b.namespace;
      if (same) out.push(await pingCheck(a, b.ip, id(b)), await tcpCheck(a, b));
      else out.push(await deniedCheck(end(a), end(b)));
    }
    if (defaultPod) out.push(await deniedCheck(end(a), end(defaultPod)), await deniedCheck(end(defaultPod), end(a)));
  }
  return out;
}

const defaultPodOf = (file: LabFile): LabPod | undefined => file.pods.find((p) => p.namespace === 'default');

/** The Vpc lab of a lab started with `vpc: true`. */
export function vpcLabOf(lab: Lab): VpcLab {
  if (!lab.file.vpcs?.length) throw new Error('lab: no Vpcs (start it with vpc: true, make lab --vpc)');
  const pods = vpcPodsOf(lab.file);
  return {
    pods,
    check: () => vpcChecks(pods, defaultPodOf(lab.file)),
    listings: () => vpcListings(lab.kube),
  };
}

export const vpcListings = async (kube: UnixKubeClient): Promise<string> =>
  `$ kubectl get vpc\n${await kubectlGet(kube, 'vpcs')}\n$ kubectl get subnet\n${await kubectlGet(kube, 'subnets')}`;

const vpcPodsOf = (file: LabFile): Record<string, LabPod[]> => Object.fromEntries((file.vpcs ?? []).map((v) => [v.vpc, v.pods]));

/** make lab --vpc (LabOptions.vpc): the Vpc lab as a step; its checks run in lab.check() and make lab-status. */
export const vpcStep: LabStep = {
  name: 'vpcs',
  async run(c: LabContext): Promise<void> {
    if (!c.vpc) return;
    const file = need(c.file, 'the lab description');
    const pods = await createVpcs({ kube: need(c.kube, 'the Kubernetes API'), nodes: c.nodeNames, addPod: (p) => bringUpPod(c, p) }, c.log);
    file.vpcs = VPC_LAB.map((v) => ({ vpc: v.vpc, subnet: v.subnet, namespace: v.namespace, cidrBlock: v.cidrBlock, pods: pods[v.vpc] ?? [] }));
  },
  check: async (file) => (file.vpcs?.length ? vpcChecks(vpcPodsOf(file), defaultPodOf(file)) : []),
};

/** The isolation matrix: rows from, columns to; "ok" reached, "--" isolated (as expected unless marked FAIL). */
export function formatVpcMatrix(vl: Pick<VpcLab, 'pods'>, checks: CheckResult[], defaultPod?: string): string {
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

/** make lab --vpc's output: the kubectl listings and the isolation matrix of the Vpc checks among `checks`. */
export async function vpcReport(file: LabFile, kube: UnixKubeClient, checks: CheckResult[]): Promise<string> {
  const pods = vpcPodsOf(file);
  const ids = new Set(Object.values(pods).flat().map(id));
  const mine = checks.filter((c) => ids.has(c.from) || ids.has(c.to));
  const client = defaultPodOf(file);
  const bad = mine.filter((c) => !c.ok);
  return `\n${await vpcListings(kube)}\n\nVpc isolation matrix (ok: ping and TCP answered; --: isolated, no ping reply nor TCP answer):\n` +
    `${formatVpcMatrix({ pods }, mine, client ? id(client) : undefined)}\n${bad.length ? bad.map((c) => `FAIL ${c.from} -> ${c.to} (${c.target}): ${c.detail}`).join('\n') : `all ${mine.length} Vpc checks as expected`}\n`;
}
