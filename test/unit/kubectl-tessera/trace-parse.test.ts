import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTrace } from '../../../kubectl-tessera/trace/parse.js';
import { aclOwner, buildReport, formatReport } from '../../../kubectl-tessera/trace/report.js';
import type { ACL, LogicalSwitchPort } from '../../../lib/ovsdb/models/nb.js';
import type { Chassis, PortBinding } from '../../../lib/ovsdb/models/sb.js';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, 'fixtures', `ovn-trace-${name}.txt`), 'utf8');

const POLICY_IDS = { 'tessera.io/kind': 'network-policy', 'tessera.io/network-policy': 'default/web-allow-clients', 'tessera.io/owner': 'tessera-watcher' };
const acl = (o: Partial<ACL>): ACL => ({ _uuid: 'u', action: 'allow-related', direction: 'to-lport', external_ids: {}, label: 0, log: false, match: '', options: {}, priority: 1001, ...o });
const NB_ACLS: ACL[] = [
  acl({ match: 'outport == @tessera_np_4a16d3e1c8b8134c && ip && (ip4.src == 100.64.0.0/16 || ip4.src == $tessera_np_bda6fb2d64511ce8) && tcp.dst == 8080', external_ids: { ...POLICY_IDS, 'tessera.io/rule': '0' } }),
  acl({ action: 'drop', priority: 1000, match: 'outport == @tessera_np_4a16d3e1c8b8134c && ip', external_ids: { ...POLICY_IDS, 'tessera.io/rule': 'default-deny' } }),
  // Same match, other direction: must not be taken for the to-lport one.
  acl({ action: 'drop', direction: 'from-lport', priority: 1000, match: 'outport == @tessera_np_4a16d3e1c8b8134c && ip', external_ids: { 'tessera.io/rule': 'wrong' } }),
];
const pb = (logical_port: string, chassis?: string): PortBinding => ({ _uuid: `pb-${logical_port}`, logical_port, chassis, additional_chassis: [], additional_encap: [], datapath: 'd', external_ids: {}, gateway_chassis: [], mac: [], mirror_rules: [], nat_addresses: [], options: {}, port_security: [], requested_additional_chassis: [], tunnel_key: 1, type: '' });
const ch = (name: string): Chassis => ({ _uuid: `ch-${name}`, name, hostname: name, encaps: [], external_ids: {}, nb_cfg: 0, other_config: {}, transport_zones: [], vtep_logical_switches: [] });
const lsp = (name: string, addresses: string[]): LogicalSwitchPort => ({ _uuid: `lsp-${name}`, name, addresses, external_ids: {}, mirror_rules: [], options: {}, port_security: [], type: '' });
const CHASSIS = [ch('node1'), ch('node2')];
const BINDINGS = [pb('default_client', 'ch-node1'), pb('default_web-1', 'ch-node1'), pb('default_web-2', 'ch-node2'), pb('stor-node1'), pb('rtos-node2'),
  pb('jtor-GR_node1', 'ch-node1'), pb('rtoe-GR_node1', 'ch-node1'), pb('br-phy_node1')];
const LSPS = [lsp('default_web-1', ['0a:58:0a:f4:00:03 10.244.0.3']), lsp('default_web-2', ['0a:58:0a:f4:01:04 10.244.1.4'])];

function report(name: string, inport = 'default_client') {
  return buildReport({ from: 'a', to: 'b', summary: parseTrace(fixture(name)), inport, nbAcls: NB_ACLS, lsps: LSPS, bindings: BINDINGS, chassis: CHASSIS });
}

describe('kubectl-tessera trace: ovn-trace output → summary', () => {
  it('an allowed pod→pod trace across nodes: the policy ACL that allows it, the route, delivery on node2', () => {
    const s = parseTrace(fixture('pod-to-pod-allowed'));
    assert.deepEqual(s.datapaths, ['node1', 'ovn_cluster_router', 'node2']);
    assert.equal(s.verdict, 'output');
    assert.equal(s.acls.length, 1, 'only the policy ACL, not northd\'s default priority-1 flows');
    assert.equal(s.acls[0].aclPriority, 1001);
    assert.equal(s.acls[0].verdict, 'allow');
    assert.equal(s.acls[0].stage, 'ls_out_acl');
    assert.deepEqual(s.routes.map((r) => [r.dp, r.prefix, r.outport, r.nexthop]), [['ovn_cluster_router', '10.244.1.0/24', 'rtos-node2', undefined]]);
    assert.deepEqual(s.outputs.map((o) => o.port), ['stor-node1', 'rtos-node2', 'default_web-2']);
    const r = report('pod-to-pod-allowed');
    assert.equal(r.verdict, 'delivered');
    assert.equal(r.entersOn, 'node1');
    assert.equal(r.leavesOn, 'node2');
    assert.equal(r.acls[0].owner, 'NetworkPolicy default/web-allow-clients');
    assert.equal(r.acls[0].rule, '0');
  });

  it('a policy-denied pair: verdict drop by ls_out_acl, naming the policy\'s default-deny ACL', () => {
    const s = parseTrace(fixture('pod-to-pod-policy-drop'));
    assert.equal(s.verdict, 'drop');
    assert.equal(s.droppedBy?.stage, 'ls_out_acl');
    assert.equal(s.droppedBy?.dp, 'node2');
    assert.equal(s.acls.length, 1);
    assert.equal(s.acls[0].verdict, 'drop');
    const r = report('pod-to-pod-policy-drop', 'default_web-1');
    assert.equal(r.verdict, 'drop');
    assert.equal(r.acls[0].owner, 'NetworkPolicy default/web-allow-clients');
    assert.equal(r.acls[0].rule, 'default-deny');
    assert.match(formatReport(r), /verdict {2}drop \(by ls_out_acl on node2, priority 2000\)/);
  });

  it('pod→service: the load balancer, its backends, and the backend the packet was delivered to', () => {
    const s = parseTrace(fixture('pod-to-service'));
    assert.deepEqual(s.lbs.map((l) => [l.dp, l.vip, l.backends]), [['node1', '10.96.0.10:80', ['10.244.0.3:8080', '10.244.1.4:8080']]]);
    const r = report('pod-to-service');
    assert.equal(r.lbChosen, '10.244.1.4:8080');
    assert.match(formatReport(r), /LB {7}10\.96\.0\.10:80 on node1: backends 10\.244\.0\.3:8080, 10\.244\.1\.4:8080; chosen 10\.244\.1\.4:8080 \(default_web-2\)/);
  });

  it('pod→external host: source route to the join network, the gateway router\'s SNAT, leaving on the gateway chassis', () => {
    const s = parseTrace(fixture('pod-to-external-snat'));
    assert.deepEqual(s.datapaths, ['node1', 'ovn_cluster_router', 'join', 'GR_node1', 'ext_node1']);
    assert.deepEqual(s.routes.map((r) => [r.dp, r.prefix, r.nexthop]), [['ovn_cluster_router', 'src 10.244.0.0/24', '100.64.0.2'], ['GR_node1', '192.168.77.0/24', undefined]]);
    assert.deepEqual(s.nats.map((n) => [n.kind, n.ip, n.dp]), [['snat', '192.168.77.11', 'GR_node1']]);
    assert.deepEqual(s.outputs[s.outputs.length - 1], { port: 'br-phy_node1', type: 'localnet' });
    const r = report('pod-to-external-snat');
    assert.equal(r.verdict, 'forwarded');
    assert.equal(r.leavesOn, 'node1', 'the localnet port has no chassis: the gateway router\'s l3gateway port says where');
  });

  it('matches an ACL by direction as well as priority and match', () => {
    const hit = parseTrace(fixture('pod-to-pod-policy-drop')).acls[0];
    assert.equal(aclOwner({ ...hit, stage: 'ls_in_acl' }, NB_ACLS).rule, 'wrong');
    assert.deepEqual(aclOwner({ ...hit, aclPriority: 999 }, NB_ACLS), {});
  });
});
