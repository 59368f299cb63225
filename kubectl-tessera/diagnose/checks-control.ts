// NB/SB reachability and Raft health; every node's chassis, encap IP and ovn-controller connection; OVN-IC; the
// OVN 23.03 stale patch flow (lib/ovn/patch-flows.ts).
import { parsePatchEntries, stalePatchEntries, type PatchEntry } from '../../lib/ovn/patch-flows.js';
import { fail, ok, type CheckResult } from './result.js';
import type { DbHealth } from './db-health.js';
import type { Snapshot } from './snapshot.js';

function dbCheck(name: 'NB' | 'SB', h: DbHealth): CheckResult[] {
  if (!h.reachable) return [fail('control', name, `unreachable: ${h.detail}`, `check the ${name} ovsdb-server is running and the remote/certificates (--${name.toLowerCase()}, --ovsdb-*) are right`)];
  const out = [ok('control', name, `reachable at ${h.detail}`)];
  if (h.model !== 'clustered') out.push(ok('raft', name, `${h.model ?? 'standalone'} (not clustered: no Raft)`));
  else if (!h.connected) out.push(fail('raft', name, 'this member is not connected to its cluster', `run ovs-appctl -t <${name} ctl socket> cluster/status on the members; a minority partition cannot commit`));
  else out.push(ok('raft', name, `clustered, connected, this member is ${h.leader ? 'the leader' : 'a follower'}`));
  return out;
}

export function controlPlaneChecks(s: Snapshot): CheckResult[] {
  return [...dbCheck('NB', s.nb), ...dbCheck('SB', s.sb)];
}

export function nodeChecks(s: Snapshot): CheckResult[] {
  const out: CheckResult[] = [];
  for (const n of s.nodes) {
    const name = n.metadata?.name ?? '';
    const ch = s.sb.chassis.find((c) => c.hostname === name || c.name === name);
    if (!ch) {
      out.push(fail('node', name, 'no chassis in SB', `ovn-controller on ${name} has not registered: check external_ids:system-id/ovn-remote (kubectl tessera vsctl ${name} get Open_vSwitch . external_ids) and its log`));
    } else {
      const encap = s.sb.encaps.find((e) => ch.encaps.includes(e._uuid));
      const want = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
      if (!encap) out.push(fail('node', name, `chassis ${ch.name} has no encap`, `set external_ids:ovn-encap-type/ovn-encap-ip on ${name}`));
      else out.push(ok('node', name, `chassis ${ch.name}, encap ${encap.type} ${encap.ip}${want && want !== encap.ip ? ` (InternalIP ${want})` : ''}`));
    }
    const v = s.ovs.find((x) => x.name === name);
    if (!v || !v.controller.ok) {
      out.push(fail('node', `${name} ovn-controller`, `not answering or not connected to SB: ${v?.controller.detail || 'no answer'}`,
        `ovn-controller on ${name} is down or cut off from SB: restart it (ovn-host / the node's ovn-controller) and check its log; pods there get no new flows`));
    } else {
      out.push(ok('node', `${name} ovn-controller`, 'connected to SB'));
    }
  }
  return out;
}

export function patchFlowChecks(s: Snapshot): CheckResult[] {
  const ports: PatchEntry[] = [];
  for (const pb of s.sb.bindings) {
    const dp = s.sb.datapaths.find((d) => d._uuid === pb.datapath);
    if (dp && (pb.type === 'patch' || pb.type === 'l3gateway')) ports.push({ dp: dp.tunnel_key, key: pb.tunnel_key });
  }
  return s.ovs.map((v) => {
    if (v.table65 === undefined) return fail('patch-flow', v.name, 'could not read br-int table 65', `run kubectl tessera vsctl ${v.name} show; ovs-vswitchd may be down`);
    const stale = stalePatchEntries(parsePatchEntries(v.table65), ports);
    if (stale.length === 0) return ok('patch-flow', v.name, 'no stale table-65 patch flow (OVN 23.03 re-key issue)');
    return fail('patch-flow', v.name, `stale patch flows into ${stale.map((e) => `dp ${e.dp} key ${e.key}`).join(', ')}`,
      `ovn-controller kept a re-keyed patch port's old key: run ovs-appctl -t ovn-controller recompute on ${v.name} (the agent's watchdog does this by itself)`);
  });
}

export function icChecks(s: Snapshot): CheckResult[] {
  if (!s.icConfig) return [ok('ovn-ic', 'interconnect', 'not configured (no kube-system/ovn-ic-config)')];
  const d = s.icStatus?.data ?? {};
  if (d.state === 'connected') return [ok('ovn-ic', 'interconnect', `connected${d.message ? `: ${d.message}` : ''}`)];
  return [fail('ovn-ic', 'interconnect', `state ${d.state ?? '(no kube-system/ovn-ic-status)'}${d.message ? `: ${d.message}` : ''}`,
    'see kube-system/ovn-ic-status and the watcher log; check the IC databases in ovn-ic-config are reachable (deploy/interconnect/README.md)')];
}
