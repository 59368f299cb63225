import assert from 'node:assert/strict';
import { Cache, applyColumnDiff } from '../../../lib/ovsdb/cache.js';
import { NB_MODEL, type NBTables, type LogicalSwitchPort } from '../../../lib/ovsdb/models/nb.js';

const U1 = '11111111-1111-1111-1111-111111111111';
const U2 = '22222222-2222-2222-2222-222222222222';

function lspCache(): Cache<NBTables> {
  const c = new Cache<NBTables>(NB_MODEL);
  c.track('Logical_Switch_Port', undefined);
  return c;
}

describe('ovsdb cache', () => {
  it('fills defaults that update2 omits on insert', () => {
    const c = lspCache();
    const ev = c.applyUpdate2('Logical_Switch_Port', U1, { insert: { name: 'p1' } });
    assert.equal(ev?.kind, 'insert');
    const r = c.get('Logical_Switch_Port', U1)!;
    assert.deepEqual(r, { _uuid: U1, name: 'p1', type: '', addresses: [], port_security: [], mirror_rules: [], options: {}, external_ids: {} });
  });

  it('applies modify diffs: set symmetric difference, map add/remove/change, optional and scalar replace', () => {
    const c = lspCache();
    c.applyUpdate2('Logical_Switch_Port', U1, {
      initial: { name: 'p1', addresses: ['set', ['a', 'b']], external_ids: ['map', [['k1', 'v1'], ['k2', 'v2']]], tag_request: 5 },
    });
    const before = c.get('Logical_Switch_Port', U1)!;
    const ev = c.applyUpdate2('Logical_Switch_Port', U1, {
      modify: {
        name: 'p1b',
        addresses: ['set', ['b', 'c']],
        external_ids: ['map', [['k1', 'v1'], ['k2', 'v9'], ['k3', 'v3']]],
        tag_request: 6,
        up: true,
      },
    });
    assert.equal(ev?.kind, 'update');
    assert.equal(ev?.old, before);
    const r = c.get('Logical_Switch_Port', U1)!;
    assert.equal(r.name, 'p1b');
    assert.deepEqual(r.addresses, ['a', 'c']);
    assert.deepEqual(r.external_ids, { k2: 'v9', k3: 'v3' });
    assert.equal(r.tag_request, 6);
    assert.equal(r.up, true);
    assert.deepEqual(before.addresses, ['a', 'b'], 'the old row is not mutated');
    // Optional columns carry the new value (as ovsdb-server 3.1 sends them); clearing is an empty set.
    c.applyUpdate2('Logical_Switch_Port', U1, { modify: { tag_request: ['set', []] } });
    assert.equal(c.get('Logical_Switch_Port', U1)!.tag_request, undefined);
    assert.equal('tag_request' in c.get('Logical_Switch_Port', U1)!, false);
  });

  it('applyColumnDiff toggles single-atom set diffs', () => {
    assert.deepEqual(applyColumnDiff({ key: { type: 'string' }, min: 0, max: 'unlimited' }, ['x'], 'x'), []);
    assert.deepEqual(applyColumnDiff({ key: { type: 'string' }, min: 0, max: 'unlimited' }, [], 'x'), ['x']);
  });

  it('keeps the name index current through insert, rename and delete', () => {
    const c = lspCache();
    c.applyUpdate2('Logical_Switch_Port', U1, { insert: { name: 'a' } });
    c.applyUpdate2('Logical_Switch_Port', U2, { insert: { name: 'b' } });
    assert.equal(c.lookup('Logical_Switch_Port', 'name', 'a')?._uuid, U1);
    c.applyUpdate2('Logical_Switch_Port', U1, { modify: { name: 'c' } });
    assert.equal(c.lookup('Logical_Switch_Port', 'name', 'a'), undefined);
    assert.equal(c.lookup('Logical_Switch_Port', 'name', 'c')?._uuid, U1);
    const ev = c.applyUpdate2('Logical_Switch_Port', U2, { delete: null });
    assert.equal(ev?.kind, 'delete');
    assert.equal((ev?.row as LogicalSwitchPort).name, 'b');
    assert.equal(c.lookup('Logical_Switch_Port', 'name', 'b'), undefined);
    assert.equal(c.size('Logical_Switch_Port'), 1);
    // Non-indexed column: a scan.
    assert.equal(c.lookup('Logical_Switch_Port', 'type', '')?._uuid, U1);
  });

  it('applies RFC 7047 update (monitor fallback)', () => {
    const c = lspCache();
    assert.equal(c.applyUpdate('Logical_Switch_Port', U1, { new: { name: 'a', addresses: ['set', []], external_ids: ['map', []] } })?.kind, 'insert');
    assert.equal(c.applyUpdate('Logical_Switch_Port', U1, { old: { name: 'a' }, new: { name: 'b' } })?.kind, 'update');
    assert.equal(c.applyUpdate('Logical_Switch_Port', U1, { old: { name: 'b' } })?.kind, 'delete');
  });

  it('reconciles with the server truth, emitting only the differences', () => {
    const c = lspCache();
    c.applyUpdate2('Logical_Switch_Port', U1, { insert: { name: 'keep', addresses: ['set', ['x', 'y']] } });
    c.applyUpdate2('Logical_Switch_Port', U2, { insert: { name: 'gone' } });
    const U3 = '33333333-3333-3333-3333-333333333333';
    const fresh = new Map([
      [U1, c.fullRow('Logical_Switch_Port', U1, { name: 'keep', addresses: ['set', ['y', 'x']] })],
      [U3, c.fullRow('Logical_Switch_Port', U3, { name: 'new' })],
    ]);
    const evs = c.reconcile('Logical_Switch_Port', fresh).map((e) => `${e.kind}:${(e.row as LogicalSwitchPort).name}`);
    assert.deepEqual(evs.sort(), ['delete:gone', 'insert:new']);
    assert.equal(c.lookup('Logical_Switch_Port', 'name', 'new')?._uuid, U3);
  });

  it('rejects a modify of an unknown row', () => {
    assert.throws(() => lspCache().applyUpdate2('Logical_Switch_Port', U1, { modify: { name: 'x' } }), /modify of unknown row/);
  });
});
