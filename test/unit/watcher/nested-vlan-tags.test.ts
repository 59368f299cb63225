// VLAN tags of nested pods per parent port: lowest free tag, a port keeps its own, never a tag in use (in NB or
// handed out in flight), recovery from NB alone, exhaustion; and the parent-port checks.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { V1Node } from '@kubernetes/client-node';
import { NODE_NESTED_PARENT_ANNOTATION } from '../../../lib/kube/annotations.js';
import { OWNER_KEY } from '../../../lib/ovn/names.js';
import { nestedParent } from '../../../watcher/nested/parent-port.js';
import { parseVlanRange, VlanTags, VlanTagsExhaustedError } from '../../../watcher/nested/vlan-tags.js';
import { cacheWith } from '../ovn/cache-with.js';

const child = (name: string, parent: string, tag: number) => ({ _uuid: randomUUID(), name, parent_name: parent, tag, tag_request: tag });

describe('watcher: nested VLAN tags', () => {
  it('hands out the lowest free tag per parent, skipping tags in NB and in flight', () => {
    const nb = cacheWith({ Logical_Switch_Port: [child('a', 'vm1', 1), child('b', 'vm1', 3), child('c', 'vm2', 2)] });
    const tags = new VlanTags(nb);
    assert.equal(tags.tagFor('vm1', 'x'), 2);
    assert.equal(tags.tagFor('vm1', 'y'), 4, 'tag 2 is in flight for x');
    assert.equal(tags.tagFor('vm2', 'z'), 1, 'tags are per parent');
    assert.equal(tags.tagFor('vm1', 'x'), 2, 'a port asking again keeps its tag');
  });

  it('a port keeps the tag NB has for it; a restarted allocator (new instance) sees the same tags', () => {
    const nb = cacheWith({ Logical_Switch_Port: [child('a', 'vm1', 7), child('b', 'vm1', 1)] });
    assert.equal(new VlanTags(nb).tagFor('vm1', 'a'), 7);
    assert.equal(new VlanTags(nb).tagFor('vm1', 'new'), 2);
  });

  it('moves a port off a tag another child of the parent also carries (hand-made conflict)', () => {
    const nb = cacheWith({ Logical_Switch_Port: [child('a', 'vm1', 5), child('b', 'vm1', 5)] });
    const t = new VlanTags(nb);
    const ta = t.tagFor('vm1', 'a');
    assert.notEqual(ta, 5);
  });

  it('throws VlanTagsExhaustedError when the range is full, and recovers when a tag frees', () => {
    const nb = cacheWith({ Logical_Switch_Port: [child('a', 'vm1', 10), child('b', 'vm1', 11)] });
    const t = new VlanTags(nb, parseVlanRange('10-12'));
    assert.equal(t.tagFor('vm1', 'c'), 12);
    assert.throws(() => t.tagFor('vm1', 'd'), VlanTagsExhaustedError);
    t.release('c');
    assert.equal(t.tagFor('vm1', 'd'), 12);
  });

  it('parses ranges within 1-4094 only', () => {
    assert.deepEqual(parseVlanRange('1-4094'), { min: 1, max: 4094 });
    for (const bad of ['0-10', '1-4095', '9-3', 'x', '5']) assert.throws(() => parseVlanRange(bad), /VLAN range/);
  });
});

describe('watcher: nested parent port', () => {
  const node = (name: string, parent?: string): V1Node => ({ metadata: { name, annotations: parent === undefined ? {} : { [NODE_NESTED_PARENT_ANNOTATION]: parent } } });
  const nb = cacheWith({
    Logical_Switch_Port: [
      { _uuid: randomUUID(), name: 'vm1-nic', addresses: ['0a:00:00:00:00:01 10.0.0.5'] },
      { _uuid: randomUUID(), name: 'default_web', external_ids: { [OWNER_KEY]: 'pod/default/web' } },
      { _uuid: randomUUID(), name: 'stor-n1', type: 'router' },
      child('default_kid', 'vm1-nic', 4),
    ],
  });
  const check = (n: V1Node, all: V1Node[] = [n]) => nestedParent(n, all, nb);

  it('is undefined for an ordinary node and accepts a plain foreign port', () => {
    assert.equal(check(node('n1')), undefined);
    assert.deepEqual(check(node('vm1', 'vm1-nic')), { parent: 'vm1-nic' });
  });

  it("refuses a missing port, Tessera's own (a pod's), a router port, a child, a bad name, another node's parent", () => {
    const problem = (n: V1Node, all?: V1Node[]) => {
      const r = check(n, all);
      return r && 'problem' in r ? r.problem : '';
    };
    assert.match(problem(node('vm1', 'nope')), /no such logical switch port/);
    assert.match(problem(node('vm1', 'default_web')), /Tessera's own port/);
    assert.match(problem(node('vm1', 'stor-n1')), /type "router"/);
    assert.match(problem(node('vm1', 'default_kid')), /itself a child/);
    assert.match(problem(node('vm1', 'a b"')), /not a logical switch port name/);
    assert.match(problem(node('vm1', 'vm1-nic'), [node('vm1', 'vm1-nic'), node('vm2', 'vm1-nic')]), /Node vm2 names the same port/);
  });
});
