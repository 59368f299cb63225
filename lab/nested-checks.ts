// The nested lab's checks (make lab --nested, make lab-status): every nested pod and the default network's `client`
// pod ping and talk TCP to each other (same VM, other VM, VM ↔ ordinary node), except into the nested web pods, where
// the lab's NetworkPolicy decides (TCP from role=nested-client only, nothing else); the nested web Service from the
// nested clients. The printed section names each pair.
import type { LabFile } from './lab-file.js';
import type { LabPod } from './pod-lifecycle.js';
import { verdict } from './policy.js';
import { pingCheck, policyCheck, POD_SERVER_PORT, serviceCheck, tcpCheck, type CheckResult } from './report.js';

const id = (p: LabPod): string => `${p.namespace}/${p.name}`;

export async function nestedChecks(file: LabFile): Promise<CheckResult[]> {
  const n = file.nested;
  if (!n) return [];
  const nested = n.vms.flatMap((v) => v.pods);
  const ordinary = file.pods.find((p) => p.namespace === 'default' && p.name === 'client');
  const all = [...nested, ...(ordinary ? [ordinary] : [])];
  const jobs: Promise<CheckResult>[] = [];
  for (const a of all) {
    for (const b of all) {
      if (a === b) continue;
      const v = verdict([n.policy], a, b, POD_SERVER_PORT);
      if (v.policies.length) jobs.push(policyCheck(a, { id: id(b), ip: b.ip, port: POD_SERVER_PORT, server: id(b) }, v));
      else jobs.push(pingCheck(a, b.ip, id(b)), tcpCheck(a, b));
    }
  }
  for (const a of nested.filter((p) => p.labels?.role === 'nested-client')) jobs.push(serviceCheck(a, n.service));
  return Promise.all(jobs);
}

/** Where each nested pod runs, then the checks that involve a nested pod. */
export function nestedReport(file: LabFile, checks: CheckResult[]): string {
  const n = file.nested;
  if (!n) return '';
  const ids = new Set(n.vms.flatMap((v) => v.pods.map(id)));
  const mine = checks.filter((c) => ids.has(c.from) || ids.has(c.to));
  const where = n.vms.map((v) => `  ${v.name} (netns ${v.netns}, NIC ${v.nic} = port ${v.parentPort} on ${n.hypervisor.name}, subnet ${v.subnet}): ` +
    v.pods.map((p) => `${p.name} ${p.ip}`).join(', ')).join('\n');
  const lines = mine.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.kind.padEnd(7)} ${c.from} -> ${c.to} (${c.target}): ${c.detail}`);
  const bad = mine.filter((c) => !c.ok).length;
  return `\nNested VMs on hypervisor ${n.hypervisor.name} (pods are VLAN children of their VM's port):\n${where}\nNested-pod reachability:\n${lines.join('\n')}\n` +
    `${bad ? `${bad} nested checks FAILED` : `all ${mine.length} nested checks passed`}\n`;
}
