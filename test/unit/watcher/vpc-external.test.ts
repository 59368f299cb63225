// watcher/vpc/external.ts: which NB routers are Neutron's, the Vpc objects that follow from them (create, label,
// remove, or keep with an error while Tessera Subnets still name them), the status subnets, the NB writes a Subnet
// on a Neutron router makes (never the router row itself), and the NeutronSync condition.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { rowToWire } from '../../../lib/ovsdb/notation.js';
import { NB_MODEL } from '../../../lib/ovsdb/models/nb.js';
import { Txn } from '../../../lib/ovn/txn.js';
import { cacheWith, ours, U } from '../ovn/cache-with.js';
import { subnetAddressing, type Subnet, type Vpc } from '../../../lib/kube/kubeovn.js';
import { externalView, isExternalRouter, neutronSwitchesOf, neutronSyncConditions, planExternalVpcs, SYNCED_ANNOTATION, VPC_EXTERNAL_LABEL } from '../../../watcher/vpc/external.js';
import { ensureSubnet, ensureVpc } from '../../../watcher/vpc/nb-ops.js';
import { subnetRows, vpcRows } from '../../../watcher/vpc/translate.js';
import { conditionsFor } from '../../../watcher/vpc/status.js';

const R0 = 'neutron-22040ed5-0598-4f77-bffd-e7fd4db47e93';
const NET = 'neutron-cd59e36a-37db-4c27-b709-d35379a7920f';
const label = { [VPC_EXTERNAL_LABEL]: 'true' };
const synced = { [SYNCED_ANNOTATION]: 'neutron' };
/** A Vpc; labelled ones count as synced (made by the sync) unless `mark` is false. */
const vpc = (name: string, labels?: Record<string, string>, spec: Vpc['spec'] = {}, mark = true): Vpc => ({ metadata: { name, ...(labels ? { labels, ...(mark ? { annotations: synced } : {}) } : {}) }, spec });
const subnet = (name: string, v: string): Subnet => ({ metadata: { name }, spec: { vpc: v, cidrBlock: '12.0.1.0/24', natOutgoing: false } });

// As Neutron writes them (shared/openstack/nb-rows-captured.txt): router, its port on net1, a Tessera router beside.
const neutronRows = () => cacheWith({
  Logical_Router_Port: [
    { _uuid: U(11), name: 'lrp-6f1c', mac: 'fa:16:3e:00:00:01', networks: ['12.0.0.1/24'], external_ids: { 'neutron:network_name': NET, 'neutron:router_name': '22040ed5-0598-4f77-bffd-e7fd4db47e93', 'neutron:revision_number': '3' } },
  ],
  Logical_Router: [
    { _uuid: U(1), name: R0, ports: [U(11)], external_ids: { 'neutron:router_name': 'router0', 'neutron:revision_number': '2', 'neutron:gw_port_id': '' } },
    { _uuid: U(2), name: 'vpc-a', external_ids: ours('vpc', 'vpc-a') },
    { _uuid: U(3), name: 'someone-elses', external_ids: { 'owner': 'other' } },
  ],
});

describe('external (Neutron) Vpcs', () => {
  it('only routers with neutron:* ids and without our owner ids are external', () => {
    assert.equal(isExternalRouter({ 'neutron:router_name': 'router0' }), true);
    assert.equal(isExternalRouter({ owner: 'other' }), false);
    assert.equal(isExternalRouter({ ...ours('vpc', 'x'), 'neutron:router_name': 'spoof' }), false);
    assert.equal(isExternalRouter(undefined), false);
  });

  it('lists the neutron-<network> switches attached to a router, not Tessera ports on it', () => {
    const c = neutronRows();
    c.applyUpdate2('Logical_Router_Port', U(12), { initial: rowToWire(NB_MODEL, 'Logical_Router_Port', { name: `lrp-${R0}-net2`, mac: '0a:58:0c:00:01:01', networks: ['12.0.1.1/24'], external_ids: { ...ours('subnet', 'net2'), 'neutron:network_name': 'spoof' } }) });
    assert.deepEqual(neutronSwitchesOf(c, [U(11), U(12), U(99)]), [NET]);
  });

  it('plans: a Vpc per Neutron router, a label on a same-named unlabelled one, removal when the router goes, an error while Subnets still name it', () => {
    const plan = planExternalVpcs([R0, 'neutron-b', 'neutron-c'],
      [vpc('neutron-b', label), vpc('neutron-c'), vpc('neutron-gone', label), vpc('neutron-used', label), vpc('vpc-a'), vpc('ovn-cluster')],
      [subnet('net2', 'neutron-used'), subnet('net3', 'neutron-used'), subnet('s', 'vpc-a')]);
    assert.deepEqual(plan, { create: [R0], adopt: ['neutron-c'], remove: ['neutron-gone'], orphaned: [{ vpc: 'neutron-used', subnets: ['net2', 'net3'] }] });
    // The seed's dump applied before the sync ran: labelled, not marked, adopted.
    assert.deepEqual(planExternalVpcs([R0], [vpc(R0, label, {}, false)], []).adopt, [R0]);
    // Never removed: a Vpc the user made (even with the seed's label, for Kubernetes alone), one being deleted already.
    const deleting: Vpc = { metadata: { name: 'neutron-y', labels: label, annotations: synced, deletionTimestamp: new Date() } };
    assert.deepEqual(planExternalVpcs([], [vpc('neutron-x'), vpc('neutron-seed', label, {}, false), deleting], []), { create: [], adopt: [], remove: [], orphaned: [] });
  });

  it('views a Neutron router as present with its switches; a labelled Vpc whose router is gone as absent; Tessera Vpcs not at all', () => {
    const c = neutronRows();
    assert.deepEqual(externalView(c, R0, undefined), { present: true, subnets: [NET] });
    assert.deepEqual(externalView(c, 'neutron-gone', vpc('neutron-gone', label)), { present: false, subnets: [] });
    assert.equal(externalView(c, 'vpc-a', vpc('vpc-a')), undefined);
    assert.equal(externalView(c, 'someone-elses', vpc('someone-elses')), undefined);
    assert.equal(externalView(c, 'neutron-nothing', vpc('neutron-nothing')), undefined);
    // The seed's labelled Vpc with no Neutron router (Kubernetes alone): a custom Vpc, Tessera makes its router.
    assert.equal(externalView(c, 'neutron-seed', vpc('neutron-seed', label, {}, false)), undefined);
  });

  it("a Vpc on Neutron's router writes only its own routes there, never the router row", () => {
    const c = neutronRows();
    const txn = new Txn(c);
    const rows = vpcRows(vpc(R0, label, { namespaces: ['net2'], staticRoutes: [{ cidr: '192.0.2.0/24', nextHopIP: '12.0.0.5' }] }));
    ensureVpc(txn, R0, { ...rows, routerSpec: undefined });
    assert.deepEqual(txn.ops.map((o) => `${o.op} ${o.table}`), ['insert Logical_Router_Static_Route', 'mutate Logical_Router']);
    const mut = txn.ops.find((o) => o.op === 'mutate');
    assert.equal(JSON.stringify(mut).includes('static_routes'), true);
    assert.equal(txn.ops.some((o) => o.op === 'update' && o.table === 'Logical_Router'), false);
  });

  it("a Subnet on Neutron's router: its switch, lrp-<vpc>-<subnet> and switch port with owner ids, and one ports mutation of the router", () => {
    const c = neutronRows();
    const txn = new Txn(c);
    const s = subnet('net2', R0);
    ensureSubnet(txn, 'net2', subnetRows(s, subnetAddressing(s.spec)));
    const inserts = txn.ops.filter((o) => o.op === 'insert').map((o) => `${o.table} ${String((o.row as { name?: string }).name)}`);
    assert.deepEqual(inserts.sort(), [`Logical_Router_Port lrp-${R0}-net2`, `Logical_Switch net2`, `Logical_Switch_Port net2-${R0}`].sort());
    for (const o of txn.ops.filter((x) => x.op === 'insert')) assert.equal((o.row as { external_ids?: Record<string, string> }).external_ids?.['tessera.io/owner'], 'tessera-watcher');
    const onRouter = txn.ops.filter((o) => o.table === 'Logical_Router');
    assert.deepEqual(onRouter.map((o) => o.op), ['mutate']);
    assert.match(JSON.stringify(onRouter[0]), /"ports","insert"/);
    const lsp = txn.ops.find((o) => o.op === 'insert' && o.table === 'Logical_Switch_Port');
    assert.deepEqual(lsp?.op === 'insert' ? (lsp.row as { options: unknown }).options : undefined, { 'router-port': `lrp-${R0}-net2` });
  });

  it('the NeutronSync condition replaces an earlier one and survives the Ready/Error rewrite', () => {
    const first = neutronSyncConditions(conditionsFor({ ok: true, reason: 'Ready', message: 'x' }, undefined), 'removed A', 't1');
    const second = neutronSyncConditions(first, 'removed B', 't2');
    assert.deepEqual(second.filter((c) => c.type === 'NeutronSync').map((c) => [c.status, c.reason, c.message]), [['True', 'NeutronRemovedRows', 'removed B']]);
    const rewritten = conditionsFor({ ok: true, reason: 'Ready', message: 'y' }, second);
    assert.deepEqual(rewritten.map((c) => c.type), ['Ready', 'Error', 'NeutronSync']);
  });

  it("the lab's copy of the seed's net2 manifest is the test fixture's, comments aside", () => {
    const body = (p: string) => readFileSync(new URL(p, import.meta.url), 'utf8').split('\n').filter((l) => !l.startsWith('#')).join('\n');
    assert.equal(body('../../../lab/openstack/seed-net2.yaml'), body('../../fixtures/kubeovn/seed-net2.yaml'));
  });
});
