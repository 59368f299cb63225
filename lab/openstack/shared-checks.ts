// The shared-OVN lab's checks and matrix: pods of the seed's net2 Subnet and the VMs behind the same Neutron router
// reach each other (ping and TCP, both ways); a VM behind another Neutron router reaches none of them and is reached
// by none; the default network's pods reach none of them and the reverse.
import type { LabFile } from '../lab-file.js';
import { deniedCheck, type CheckResult, type ProbeEnd } from '../report.js';
import { podVmChecks } from './checks.js';
import type { OpenstackLabInfo } from './ic-az.js';
import { formatOpenstackReport } from './report.js';

type LabPod = LabFile['pods'][number];

const podEnd = (p: LabPod): ProbeEnd => ({ id: `${p.namespace}/${p.name}`, netns: p.netns, ip: p.ip });
const vmEnd = (v: OpenstackLabInfo['vms'][number]): ProbeEnd => ({ id: `vm/${v.name}`, netns: v.netns, ip: v.ip });

/** The router a VM's network is attached to. */
const routerOf = (os: OpenstackLabInfo, v: OpenstackLabInfo['vms'][number]): string | undefined => os.networks.find((n) => n.id === v.network)?.router;

export async function sharedChecks(file: LabFile): Promise<CheckResult[]> {
  const os = file.openstack;
  if (!os || os.scheme !== 'shared') return [];
  const pods = os.pods ?? [];
  const podRouter = os.routers[0]?.id;
  const near = os.vms.filter((v) => routerOf(os, v) === podRouter);
  const far = os.vms.filter((v) => routerOf(os, v) !== podRouter);
  const out = await podVmChecks(pods.map((pod) => ({ pod, tag: `${pod.namespace}/${pod.name}` })), near);
  const denied: Array<[ProbeEnd, ProbeEnd]> = [];
  for (const f of far) {
    for (const t of [...pods.map(podEnd), ...near.map(vmEnd)]) denied.push([vmEnd(f), t], [t, vmEnd(f)]);
  }
  const dflt = file.pods.find((p) => p.namespace === 'default');
  if (dflt) for (const t of [...pods.map(podEnd), ...os.vms.map(vmEnd)]) denied.push([podEnd(dflt), t], [t, podEnd(dflt)]);
  out.push(...await Promise.all(denied.map(([a, b]) => deniedCheck(a, b))));
  return out;
}

/** Rows from, columns to: "ok" reached (ping and TCP), "--" isolated; FAIL where that was not what was expected. */
export function formatSharedMatrix(file: LabFile, checks: CheckResult[]): string {
  const os = file.openstack;
  if (!os) return '';
  const dflt = file.pods.find((p) => p.namespace === 'default');
  const names = [...(os.pods ?? []).map((p) => `${p.namespace}/${p.name}`), ...os.vms.map((v) => `vm/${v.name}`), ...(dflt ? [`${dflt.namespace}/${dflt.name}`] : [])];
  const cell = (f: string, t: string): string => {
    if (f === t) return '·';
    const cs = checks.filter((c) => c.from === f && c.to === t && (c.kind === 'openstack' || c.kind === 'policy'));
    if (!cs.length) return '';
    return `${cs.some((c) => c.kind !== 'policy') ? 'ok' : '--'}${cs.some((c) => !c.ok) ? ' FAIL' : ''}`;
  };
  const rows = [['from \\ to', ...names], ...names.map((f) => [f, ...names.map((t) => cell(f, t))])];
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(w[i]! + 2)).join('').trimEnd()).join('\n');
}

/** The report's shared-OVN part: routers, networks, VMs (formatOpenstackReport) and the matrix. */
export function formatSharedReport(file: LabFile, checks: CheckResult[]): string {
  const bad = checks.filter((c) => (c.kind === 'openstack' || c.kind === 'policy') && !c.ok && (c.from.startsWith('vm/') || c.to.startsWith('vm/') || c.from.startsWith('net2/') || c.to.startsWith('net2/')));
  return `\nPods <-> Neutron VMs (shared OVN; ok: ping and TCP answered both ways; --: isolated):\n${formatSharedMatrix(file, checks)}\n` +
    (bad.length ? bad.map((c) => `FAIL ${c.from} -> ${c.to} (${c.target}): ${c.detail}`).join('\n') : 'all pod/VM checks as expected') + '\n';
}

/** make lab OPENSTACK=shared's OpenStack part: Neutron, its routers, networks and VMs, the pod <-> VM checks and the matrix. */
export const sharedLabReport = (file: LabFile, checks: CheckResult[]): string =>
  file.openstack ? `${formatOpenstackReport(file.openstack, checks).join('\n')}\n${formatSharedReport(file, checks)}` : '';
