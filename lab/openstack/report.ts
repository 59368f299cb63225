// The OpenStack part of the lab report: where Neutron runs, its routers, networks and VMs, and the pod <-> VM checks.
import type { CheckResult } from '../report.js';
import type { OpenstackLabInfo } from './ic-az.js';

export function formatOpenstackReport(os: OpenstackLabInfo, checks: CheckResult[]): string[] {
  const lines: string[] = [];
  lines.push(`OpenStack${os.az ? ` AZ ${os.az}` : ''} (${os.scheme === 'ic' ? 'OVN-IC' : 'shared OVN'}): a real neutron-server in ${os.netns}, ` +
    `API ${os.neutronUrl} (noauth, project ${os.project}; from the host: curl --unix-socket ${os.neutronSocket} -H 'X-Project-Id: ${os.project}' http://x/v2.0/routers)`);
  for (const r of os.routers) lines.push(`  router ${r.name} ${r.id} (NB ${r.ovnName})`);
  for (const n of os.networks) lines.push(`  network ${n.name} ${n.id} ${n.cidr}`);
  for (const v of os.vms) lines.push(`  VM ${v.name} ${v.ip} (${v.mac}) netns ${v.netns}, Neutron port ${v.portId} bound on ${v.node}`);
  const mine = checks.filter((x) => x.kind === 'openstack');
  lines.push(`Pods <-> VMs (ping and TCP each way), performed just now: ${mine.filter((x) => x.ok).length}/${mine.length} ok`);
  for (const x of mine) lines.push(`  ${x.ok ? 'ok  ' : 'FAIL'} ${x.from} -> ${x.to} ${x.target}: ${x.detail}`);
  return lines;
}
