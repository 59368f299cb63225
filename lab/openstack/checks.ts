// Reachability between Kubernetes pods and OpenStack VMs: ping and TCP (bytes both ways to the demo server), each
// way. In the IC scheme the path is pod -> ovn_cluster_router -> ts -> router0 -> net1, and back.
import type { LabFile } from '../lab-file.js';
import { ping, POD_SERVER_PORT, tcpExchange, type CheckResult } from '../report.js';
import type { LabVm } from './vm.js';

type LabPod = LabFile['pods'][number];

async function oneWay(from: { id: string; netns: string }, to: { id: string; ip: string; server: string }): Promise<CheckResult> {
  const p = await ping(from.netns, to.ip);
  const tcp = await tcpExchange(from.netns, to.ip, POD_SERVER_PORT);
  const tcpOk = tcp.ok && tcp.server === to.server;
  return { kind: 'openstack', from: from.id, to: to.id, target: to.ip, ok: p.ok && tcpOk,
    detail: `ping ${p.ok ? '' : 'FAILED '}${p.detail}; tcp ${tcpOk ? '' : 'FAILED '}${tcp.ok && !tcpOk ? `answered by ${tcp.server}` : tcp.detail}` };
}

/** Every VM with the given pods, both ways. `podTag` names a pod in the report (e.g. with its cluster). */
export async function podVmChecks(pods: Array<{ pod: LabPod; tag: string }>, vms: LabVm[]): Promise<CheckResult[]> {
  const jobs: Array<Promise<CheckResult>> = [];
  for (const { pod, tag } of pods) {
    for (const vm of vms) {
      const vmEnd = { id: `vm/${vm.name}`, netns: vm.netns, ip: vm.ip, server: `vm/${vm.name}` };
      jobs.push(oneWay({ id: tag, netns: pod.netns }, vmEnd));
      jobs.push(oneWay(vmEnd, { id: tag, ip: pod.ip, server: `${pod.namespace}/${pod.name}` }));
    }
  }
  return Promise.all(jobs);
}
