// The nested lab's checks (make lab --nested, make lab-status): every nested pod and the default network's `client`
// pod ping and talk TCP to each other (same VM, other VM, VM ↔ ordinary node), except into the nested web pods, where
// the lab's NetworkPolicy decides (TCP from role=nested-client only, nothing else); the nested web Service from the
// nested clients; and the VMs' own eth0 addresses (routed through the cluster router's port on the VMs' switch): every
// nested pod and `default/client` ping each VM, each VM pings every pod and talks TCP to those the policy leaves open
// (a VM is no pod, so into the web pods the policy denies it). The printed section names each pair.
import type { LabFile } from './lab-file.js';
import type { LabPod } from './pod-lifecycle.js';
import { verdict, type LabPolicySpec } from './policy.js';
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
  for (const vm of n.vms.map(vmAsPeer)) jobs.push(...vmChecks(vm, all, n.policy));
  return Promise.all(jobs);
}

/** A VM as the checks' source or target: its netns and its eth0 address, id `vm/<name>`. */
export function vmAsPeer(vm: NonNullable<LabFile['nested']>['vms'][number]): LabPod {
  return { namespace: 'vm', name: vm.name, node: vm.name, netns: vm.netns, ip: vm.ip, mac: '', hostIface: vm.nic };
}

/** Pods → the VM (ping: the VM runs no pod server) and the VM → pods (ping and TCP, or the policy's verdict). */
function vmChecks(vm: LabPod, pods: LabPod[], policy: LabPolicySpec): Promise<CheckResult>[] {
  const jobs: Promise<CheckResult>[] = [];
  for (const p of pods) {
    jobs.push(pingCheck(p, vm.ip, id(vm)));
    const v = verdict([policy], vm, p, POD_SERVER_PORT);
    if (v.policies.length) jobs.push(policyCheck(vm, { id: id(p), ip: p.ip, port: POD_SERVER_PORT, server: id(p) }, v));
    else jobs.push(pingCheck(vm, p.ip, id(p)), tcpCheck(vm, p));
  }
  return jobs;
}

/** Where each nested pod runs, then the checks that involve a nested pod. */
export function nestedReport(file: LabFile, checks: CheckResult[]): string {
  const n = file.nested;
  if (!n) return '';
  const ids = new Set(n.vms.flatMap((v) => [...v.pods.map(id), id(vmAsPeer(v))]));
  const mine = checks.filter((c) => ids.has(c.from) || ids.has(c.to));
  const where = n.vms.map((v) => `  ${v.name} ${v.ip} (netns ${v.netns}, NIC ${v.nic} = port ${v.parentPort} on ${n.hypervisor.name}, subnet ${v.subnet}): ` +
    v.pods.map((p) => `${p.name} ${p.ip}`).join(', ')).join('\n');
  const lines = mine.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.kind.padEnd(7)} ${c.from} -> ${c.to} (${c.target}): ${c.detail}`);
  const bad = mine.filter((c) => !c.ok).length;
  return `\nNested VMs on hypervisor ${n.hypervisor.name} (pods are VLAN children of their VM's port; VMs on switch ${n.vmSwitch}, ` +
    `routed to the pods by ${n.vmRouter.port} ${n.vmRouter.ip}):\n${where}\nNested-pod reachability:\n${lines.join('\n')}\n` +
    `${bad ? `${bad} nested checks FAILED` : `all ${mine.length} nested checks passed`}\n`;
}
