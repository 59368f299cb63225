// NB operations alone: what each appends to a batch, given what the cache holds (no server needed;
// the real-server behaviour is in test/integration/ovn and test/integration/watcher).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { NamedUuid } from '../../../lib/ovsdb/notation.js';
import { cacheWith } from './cache-with.js';
import { Txn, type NbOp } from '../../../lib/ovn/txn.js';
import { ensureSwitch, ensureSwitchAcls, deleteSwitch, disownSwitch } from '../../../lib/ovn/switch.js';
import { ForeignPortError, createOrUpdatePort, deletePort } from '../../../lib/ovn/lsp.js';
import { ensurePortGroup } from '../../../lib/ovn/port-group.js';
import { ensureAddressSet } from '../../../lib/ovn/address-set.js';
import { ensureLoadBalancer } from '../../../lib/ovn/load-balancer.js';
import { ensureRouterPort } from '../../../lib/ovn/router.js';
import type { AclSpec } from '../../../lib/ovn/acl.js';
import { toOps } from '../../../lib/ovn/commit.js';

const kinds = (ops: NbOp[]) => ops.map((o) => `${o.op} ${o.table}`);
const ids = { 'tessera.io/owner': 'tessera-watcher' };

describe('lib/ovn vocabulary', () => {
  it('ensureSwitchAcls: converges only the ACLs it claims, with mutations, and is a no-op when they match', () => {
    const mine = (x: Record<string, string>): boolean => x['tessera.io/object'] === 'protected-endpoints';
    const want: AclSpec = { direction: 'from-lport', priority: 990, match: 'tcp && (ip4.dst == 10.0.0.1 && tcp.dst == 6641)', action: 'drop',
      options: { 'apply-after-lb': 'true' }, external_ids: { ...ids, 'tessera.io/object': 'protected-endpoints' } };
    const theirs = { _uuid: randomUUID(), direction: 'to-lport', priority: 5, match: 'ip', action: 'allow', options: {}, external_ids: { owner: 'someone' } };
    const old = { _uuid: randomUUID(), ...want, match: 'tcp && (ip4.dst == 10.0.0.9 && tcp.dst == 6641)' };
    const same = { _uuid: randomUUID(), ...want };
    const sw = (acls: string[]) => ({ _uuid: randomUUID(), name: 'n1', acls, other_config: {}, external_ids: ids });
    const s1 = sw([theirs._uuid, old._uuid]);
    const t1 = new Txn(cacheWith({ ACL: [theirs, old], Logical_Switch: [s1] }));
    ensureSwitchAcls(t1, 'n1', s1._uuid, [want], mine);
    assert.deepEqual(kinds(t1.ops), ['insert ACL', 'mutate Logical_Switch', 'mutate Logical_Switch']);
    const [, del, ins] = t1.ops as Array<{ mutations: unknown[][] }>;
    assert.deepEqual(del!.mutations, [['acls', 'delete', [old._uuid]]], 'the stale one goes, theirs stays');
    assert.equal((ins!.mutations[0] as unknown[])[1], 'insert');
    const s2 = sw([theirs._uuid, same._uuid]);
    const t2 = new Txn(cacheWith({ ACL: [theirs, same], Logical_Switch: [s2] }));
    ensureSwitchAcls(t2, 'n1', s2._uuid, [want], mine);
    assert.deepEqual(t2.ops, []);
    const t3 = new Txn(cacheWith({ ACL: [theirs, same], Logical_Switch: [s2] }));
    ensureSwitchAcls(t3, 'n1', s2._uuid, [], mine);
    assert.deepEqual(t3.ops.map((o) => (o as { mutations: unknown[] }).mutations), [[['acls', 'delete', [same._uuid]]]]);
  });

  it('ensureSwitch: guarded insert when absent, nothing when equal, update on drift', () => {
    const spec = { name: 'n1', other_config: { subnet: '10.244.1.0/24' }, external_ids: ids };
    const t1 = new Txn(cacheWith({}));
    const r = ensureSwitch(t1, spec);
    assert.ok(r instanceof NamedUuid);
    assert.deepEqual(kinds(t1.ops), ['wait Logical_Switch', 'insert Logical_Switch']);
    assert.deepEqual(ensureSwitch(t1, spec), r, 'a second call in the same batch refers to the pending row');
    assert.equal(t1.ops.length, 2);
    const ls = { _uuid: randomUUID(), ...spec };
    const t2 = new Txn(cacheWith({ Logical_Switch: [ls] }));
    assert.equal(ensureSwitch(t2, spec), ls._uuid);
    assert.deepEqual(t2.ops, []);
    const t3 = new Txn(cacheWith({ Logical_Switch: [{ ...ls, other_config: { subnet: '10.244.9.0/24' } }] }));
    ensureSwitch(t3, spec);
    assert.deepEqual(kinds(t3.ops), ['update Logical_Switch']);
    const t4 = new Txn(cacheWith({ Logical_Switch: [ls] }));
    deleteSwitch(t4, 'n1');
    assert.deepEqual(t4.ops, [{ op: 'delete', table: 'Logical_Switch', where: [['_uuid', '==', ls._uuid]] }]);
  });

  it('createOrUpdatePort: insert + link, no-op when equal, update in place, move between switches', () => {
    const ls1 = { _uuid: randomUUID(), name: 'n1', ports: [] as string[] };
    const spec = { name: 'ns_a', addresses: ['0a:58:0a:f4:01:03 10.244.1.3'], port_security: ['0a:58:0a:f4:01:03 10.244.1.3'], external_ids: ids };
    const t1 = new Txn(cacheWith({ Logical_Switch: [ls1] }));
    createOrUpdatePort(t1, 'n1', spec);
    assert.deepEqual(kinds(t1.ops), ['insert Logical_Switch_Port', 'mutate Logical_Switch']);
    const ins = t1.ops[0] as Extract<NbOp, { op: 'insert' }>;
    const mut = t1.ops[1] as Extract<NbOp, { op: 'mutate' }>;
    assert.deepEqual(mut.mutations, [['ports', 'insert', [new NamedUuid(ins.uuidName!)]]]);
    assert.doesNotThrow(() => toOps(t1.ops), 'converts to wire ops against the model');

    const lsp = { _uuid: randomUUID(), ...spec, type: '', options: {} };
    const withPort = { Logical_Switch: [{ ...ls1, ports: [lsp._uuid] }], Logical_Switch_Port: [lsp] };
    const t2 = new Txn(cacheWith(withPort));
    assert.equal(createOrUpdatePort(t2, 'n1', spec), lsp._uuid);
    assert.deepEqual(t2.ops, []);
    const t3 = new Txn(cacheWith(withPort));
    createOrUpdatePort(t3, 'n1', { ...spec, addresses: ['0a:58:0a:f4:01:04 10.244.1.4'] });
    assert.deepEqual(kinds(t3.ops), ['update Logical_Switch_Port']);
    assert.deepEqual((t3.ops[0] as Extract<NbOp, { op: 'update' }>).where, [['_uuid', '==', lsp._uuid]]);

    const ls2 = { _uuid: randomUUID(), name: 'n2', ports: [] as string[] };
    const t4 = new Txn(cacheWith({ ...withPort, Logical_Switch: [...withPort.Logical_Switch, ls2] }));
    createOrUpdatePort(t4, 'n2', spec);
    assert.deepEqual(kinds(t4.ops), ['mutate Logical_Switch', 'insert Logical_Switch_Port', 'mutate Logical_Switch']);
    assert.deepEqual((t4.ops[0] as Extract<NbOp, { op: 'mutate' }>).where, [['_uuid', '==', ls1._uuid]]);
    assert.deepEqual((t4.ops[2] as Extract<NbOp, { op: 'mutate' }>).where, [['_uuid', '==', ls2._uuid]]);

    const t5 = new Txn(cacheWith(withPort));
    assert.equal(deletePort(t5, 'ns_a'), true);
    assert.deepEqual(t5.ops, [{ op: 'mutate', table: 'Logical_Switch', where: [['_uuid', '==', ls1._uuid]], mutations: [['ports', 'delete', [lsp._uuid]]] }]);
    assert.equal(deletePort(new Txn(cacheWith({})), 'ns_a'), false);
    assert.throws(() => createOrUpdatePort(new Txn(cacheWith({})), 'nope', spec), /logical switch nope does not exist/);
  });

  it('createOrUpdatePort refuses a port of that name without owner ids, on any switch, and writes nothing', () => {
    const theirs = { _uuid: randomUUID(), name: 'ns_a', addresses: ['02:00:00:00:00:01 10.244.1.9'], port_security: [], type: '', options: {}, external_ids: { team: 'x' } };
    const ls1 = { _uuid: randomUUID(), name: 'n1', ports: [theirs._uuid] };
    const ls2 = { _uuid: randomUUID(), name: 'n2', ports: [] as string[] };
    const spec = { name: 'ns_a', addresses: ['0a:58:0a:f4:01:03 10.244.1.3'], external_ids: ids };
    for (const at of ['n1', 'n2']) {
      const t = new Txn(cacheWith({ Logical_Switch: [ls1, ls2], Logical_Switch_Port: [theirs] }));
      assert.throws(() => createOrUpdatePort(t, at, spec), (e: unknown) => e instanceof ForeignPortError && /ns_a exists and is not Tessera's/.test(e.message));
      assert.deepEqual(t.ops, []);
    }
  });

  it("disownSwitch drops only the ports and ACLs it claims and our owner keys; the switch and others' rows stay", () => {
    const mine = (x: Record<string, string>): boolean => x['tessera.io/owner'] === 'tessera-watcher';
    const ours = { _uuid: randomUUID(), name: 'stor-n1', external_ids: ids };
    const theirs = { _uuid: randomUUID(), name: 'foreign', external_ids: {} };
    const ourAcl = { _uuid: randomUUID(), external_ids: ids };
    const theirAcl = { _uuid: randomUUID(), external_ids: { team: 'x' } };
    const ls = { _uuid: randomUUID(), name: 'n1', ports: [ours._uuid, theirs._uuid], acls: [ourAcl._uuid, theirAcl._uuid], other_config: {}, external_ids: { ...ids, team: 'x' } };
    const t = new Txn(cacheWith({ Logical_Switch: [ls], Logical_Switch_Port: [ours, theirs], ACL: [ourAcl, theirAcl] }));
    disownSwitch(t, ls as never, mine, ['tessera.io/owner', 'tessera.io/subnet']);
    assert.deepEqual(t.ops.map((o) => (o as { mutations: unknown[] }).mutations), [
      [['ports', 'delete', [ours._uuid]]], [['acls', 'delete', [ourAcl._uuid]]], [['external_ids', 'delete', ['tessera.io/owner']]],
    ]);
    assert.ok(t.ops.every((o) => o.op === 'mutate' && o.table === 'Logical_Switch'), 'no delete of the switch');
  });

  it('ensureAddressSet sends only the addresses that changed, as one mutate; nothing when equal', () => {
    const u = randomUUID();
    const c = cacheWith({ Address_Set: [{ _uuid: u, name: 'as', addresses: ['10.0.0.1', '10.0.0.2', '10.0.0.3'], external_ids: ids }] });
    const t = new Txn(c);
    ensureAddressSet(t, 'as', ['10.0.0.2', '10.0.0.3', '10.0.0.4'], ids);
    assert.deepEqual(t.ops, [{ op: 'mutate', table: 'Address_Set', where: [['_uuid', '==', u]], mutations: [['addresses', 'delete', ['10.0.0.1']], ['addresses', 'insert', ['10.0.0.4']]] }]);
    const same = new Txn(c);
    ensureAddressSet(same, 'as', ['10.0.0.3', '10.0.0.2', '10.0.0.1'], ids);
    assert.equal(same.ops.length, 0);
    const relabel = new Txn(c);
    ensureAddressSet(relabel, 'as', ['10.0.0.1', '10.0.0.2', '10.0.0.3'], { ...ids, x: 'y' });
    assert.deepEqual(kinds(relabel.ops), ['update Address_Set'], 'external_ids alone: an update of that column');
    assert.equal(Object.keys((relabel.ops[0] as { row: object }).row).join(), 'external_ids');
  });

  it('ensurePortGroup diffs ACLs: keeps equal ones, inserts new ones, drops the rest', () => {
    const acl = (match: string): AclSpec => ({ direction: 'to-lport', priority: 1001, match, action: 'allow-related', external_ids: ids });
    const a = { _uuid: randomUUID(), ...acl('A'), label: 0, log: false, options: {} };
    const b = { _uuid: randomUUID(), ...acl('B'), label: 0, log: false, options: {} };
    const p1 = randomUUID();
    const pg = { _uuid: randomUUID(), name: 'pg', ports: [p1], acls: [a._uuid, b._uuid], external_ids: ids };
    const t = new Txn(cacheWith({ ACL: [a, b], Port_Group: [pg] }));
    ensurePortGroup(t, { name: 'pg', ports: [p1], acls: [acl('B'), acl('C')], external_ids: ids });
    assert.deepEqual(kinds(t.ops), ['insert ACL', 'update Port_Group']);
    assert.equal((t.ops[0] as Extract<NbOp, { op: 'insert' }>).row.match, 'C');
    const upd = t.ops[1] as Extract<NbOp, { op: 'update' }>;
    const acls = upd.row.acls as Array<string | NamedUuid>;
    assert.equal(acls[0], b._uuid);
    assert.ok(acls[1] instanceof NamedUuid);
    assert.equal(acls.length, 2, 'A is dropped (the port group held the only reference)');
    const t2 = new Txn(cacheWith({ ACL: [a, b], Port_Group: [pg] }));
    ensurePortGroup(t2, { name: 'pg', ports: [p1], acls: [acl('A'), acl('B')], external_ids: ids });
    assert.deepEqual(t2.ops, [], 'nothing to do when equal');
  });

  it('ensureLoadBalancer updates the same row in place', () => {
    const spec = { name: 'svc', protocol: 'tcp' as const, vips: { '10.96.0.10:80': '10.244.1.3:8080' }, options: { reject: 'true' }, selection_fields: [], external_ids: ids };
    const lb = { _uuid: randomUUID(), ...spec };
    const t = new Txn(cacheWith({ Load_Balancer: [lb] }));
    assert.equal(ensureLoadBalancer(t, { ...spec, vips: { '10.96.0.10:80': '10.244.1.3:8080,10.244.2.3:8080' } }), lb._uuid);
    assert.deepEqual(kinds(t.ops), ['update Load_Balancer']);
    const t2 = new Txn(cacheWith({ Load_Balancer: [lb] }));
    ensureLoadBalancer(t2, spec);
    assert.deepEqual(t2.ops, []);
  });

  it('ensureRouterPort refuses a missing router and links a new port', () => {
    assert.throws(() => ensureRouterPort(new Txn(cacheWith({})), 'r', { name: 'p', mac: '0a:58:0a:f4:01:01', networks: ['10.244.1.1/24'], external_ids: ids }), /router r does not exist/);
    const t = new Txn(cacheWith({ Logical_Router: [{ _uuid: randomUUID(), name: 'r' }] }));
    ensureRouterPort(t, 'r', { name: 'p', mac: '0a:58:0a:f4:01:01', networks: ['10.244.1.1/24'], external_ids: ids });
    assert.deepEqual(kinds(t.ops), ['insert Logical_Router_Port', 'mutate Logical_Router']);
  });

  it('named-uuids never collide across Txns (commit merges batches)', () => {
    const c = cacheWith({});
    const names = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const t = new Txn(c);
      t.insert('Address_Set', 'same-key', { name: 'x' });
      names.add((t.ops[0] as Extract<NbOp, { op: 'insert' }>).uuidName!);
    }
    assert.equal(names.size, 50);
  });
});
