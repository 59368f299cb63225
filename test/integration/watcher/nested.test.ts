// Nested nodes (issue 16): pods on a Node annotated with tessera.io/nested-parent-port get child ports (parent_name,
// tag) with a VLAN tag per parent, recovered from NB after a restart; exhaustion is a pod Event and pod-network-error
// until a tag frees; a parent that is not a VM's port is a Node Event and no child; tessera.io/port-up follows NB's
// `up` (set here with ovn-nbctl, as ovn-northd would); a pod deleted while the watcher is down loses its child port
// and tag at start-up, which a pod created meanwhile gets. The VM ports are another writer's rows (ovn-nbctl).
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../kube-double/resources.js';
import { NODE_NESTED_PARENT_ANNOTATION, POD_NETWORK_ERROR_ANNOTATION, POD_PORT_UP_ANNOTATION } from '../../../lib/kube/annotations.js';
import { WatcherFixture, until, sleep } from './fixture.js';

describe('watcher: nested nodes, child ports and VLAN tags (real NB)', function () {
  this.timeout(120000);
  const f = new WatcherFixture();
  const nestedNode = (name: string, parent: string): KubeObject => f.create('node', { metadata: { name, annotations: { [NODE_NESTED_PARENT_ANNOTATION]: parent } } });
  const child = (pod: string) => {
    const l = f.lsp(`default_${pod}`);
    return l ? { parent: l.parent_name, tag: l.tag, tagRequest: l.tag_request } : undefined;
  };
  const vlanOf = (pod: string): number | undefined => (f.podNetwork('default', pod) as { vlan?: number } | undefined)?.vlan;

  before(async () => {
    await f.start();
    f.node('n1');
    f.startWatcher(['--no-leader-election', '--nested-vlan-range', '1-3']);
    await until(() => f.ls('n1'), 30000, 'node switch n1');
    for (const vm of ['vm1', 'vm2', 'vm3']) await f.nbctl('lsp-add', 'n1', `${vm}-nic`, '--', 'lsp-set-addresses', `${vm}-nic`, 'unknown');
    nestedNode('vm1', 'vm1-nic');
    nestedNode('vm2', 'vm2-nic');
    await until(() => f.ls('vm1') && f.ls('vm2'), 30000, 'nested nodes get their switches');
  });
  after(async () => {
    await f.stop();
  });

  it('gives pods of a nested node child ports of its VM port, tags per parent, and vlan in the annotation', async () => {
    f.pod('default', 'a1', 'vm1');
    await until(() => vlanOf('a1'), 10000, 'a1 annotated');
    f.pod('default', 'a2', 'vm1');
    f.pod('default', 'b1', 'vm2');
    f.pod('default', 'plain', 'n1');
    await until(() => vlanOf('a2') && vlanOf('b1') && f.podNetwork('default', 'plain'), 10000, 'pods annotated');
    assert.deepEqual(child('a1'), { parent: 'vm1-nic', tag: 1, tagRequest: 1 });
    assert.deepEqual(child('a2'), { parent: 'vm1-nic', tag: 2, tagRequest: 2 });
    assert.deepEqual(child('b1'), { parent: 'vm2-nic', tag: 1, tagRequest: 1 }, 'tags are per parent');
    assert.deepEqual([vlanOf('a1'), vlanOf('a2'), vlanOf('b1')], [1, 2, 1]);
    assert.deepEqual(child('plain'), { parent: undefined, tag: undefined, tagRequest: undefined });
    assert.equal(vlanOf('plain'), undefined);
    assert.equal(f.podNetwork('default', 'a1')?.logical_switch, 'vm1', "the pod's address comes from its node's switch");
  });

  it('writes tessera.io/port-up while NB reports the child port up, and removes it when it goes down', async () => {
    await f.nbctl('set', 'Logical_Switch_Port', 'default_a1', 'up=true');
    await until(() => f.get('pod', 'default', 'a1')?.metadata.annotations?.[POD_PORT_UP_ANNOTATION] === 'default_a1', 10000, 'port-up on a1');
    await f.nbctl('set', 'Logical_Switch_Port', 'default_a1', 'up=false');
    await until(() => f.get('pod', 'default', 'a1')?.metadata.annotations?.[POD_PORT_UP_ANNOTATION] === undefined, 10000, 'port-up removed');
    await f.nbctl('set', 'Logical_Switch_Port', 'default_plain', 'up=true');
    await sleep(500);
    assert.equal(f.get('pod', 'default', 'plain')?.metadata.annotations?.[POD_PORT_UP_ANNOTATION], undefined, 'ordinary pods get none');
  });

  it("refuses a parent that is not a VM's port with a Node Event and no child, and recovers once the Node names one", async () => {
    nestedNode('vm3', 'default_a1'); // a pod's port
    await until(() => f.ls('vm3'), 10000, 'vm3 switch');
    f.pod('default', 'c1', 'vm3');
    const ev = await until(() => f.events('default', 'vm3', 'NestedParentPortRefused')[0], 10000, 'Node Event');
    assert.equal(ev.type, 'Warning');
    assert.match(String(ev.message), /Tessera's own port/);
    assert.equal(f.lsp('default_c1'), undefined, 'no child port');
    await until(() => f.events('default', 'c1', 'NestedParentPortRefused')[0], 10000, 'pod Event');
    f.patch('node', undefined, 'vm3', { metadata: { annotations: { [NODE_NESTED_PARENT_ANNOTATION]: 'vm2-nic' } } }); // another node's parent
    await until(() => f.events('default', 'vm3', 'NestedParentPortRefused').some((e) => /Node vm2 names the same port/.test(String(e.message))), 10000, 'second refusal');
    assert.equal(f.lsp('default_c1'), undefined);
    f.patch('node', undefined, 'vm3', { metadata: { annotations: { [NODE_NESTED_PARENT_ANNOTATION]: 'vm3-nic' } } });
    await until(() => child('c1')?.parent === 'vm3-nic', 60000, 'c1 child of vm3-nic once fixed');
  });

  it('recovers tags from NB after a restart, reports exhaustion (Event + pod-network-error) and recovers when a tag frees', async () => {
    const before = { a1: JSON.stringify(f.lsp('default_a1')), a2: JSON.stringify(f.lsp('default_a2')) };
    await f.procs[0].kill('SIGKILL');
    const p = f.startWatcher(['--no-leader-election', '--nested-vlan-range', '1-3']);
    await until(() => /reconcile \(start\) done/.test(p.log()), 30000, 'restart reconcile done');
    assert.equal(JSON.stringify(f.lsp('default_a1')), before.a1, 'a1 row untouched by the restart');
    assert.equal(JSON.stringify(f.lsp('default_a2')), before.a2, 'a2 row untouched by the restart');
    f.pod('default', 'a3', 'vm1');
    await until(() => vlanOf('a3'), 10000, 'a3 annotated');
    assert.equal(child('a3')?.tag, 3, 'the restarted watcher knows tags 1 and 2 are taken');
    f.pod('default', 'a4', 'vm1');
    const ev = await until(() => f.events('default', 'a4', 'VlanTagsExhausted')[0], 10000, 'exhaustion Event');
    assert.match(String(ev.message), /vm1-nic has no free VLAN tag \(1-3/);
    await until(() => /VlanTagsExhausted/.test(f.get('pod', 'default', 'a4')?.metadata.annotations?.[POD_NETWORK_ERROR_ANNOTATION] ?? ''), 10000, 'pod-network-error');
    assert.equal(f.lsp('default_a4'), undefined);
    f.remove('pod', 'default', 'a2');
    await until(() => child('a4')?.tag === 2, 60000, 'a4 gets the freed tag 2');
    assert.equal(vlanOf('a4'), 2);
    await until(() => f.get('pod', 'default', 'a4')?.metadata.annotations?.[POD_NETWORK_ERROR_ANNOTATION] === undefined, 10000, 'pod-network-error removed');
  });

  it('frees the child port and tag of a pod deleted while the watcher is down, for a pod created meanwhile', async () => {
    // vm1-nic's range 1-3 is full here (a1, a3, a4): the new pod can only get a1's tag once a1's port is gone.
    const a1Tag = child('a1')?.tag;
    assert.ok(a1Tag !== undefined, 'a1 has a tag');
    assert.deepEqual(new Set([child('a1')?.tag, child('a3')?.tag, child('a4')?.tag]), new Set([1, 2, 3]));
    await f.procs[f.procs.length - 1].kill('SIGKILL');
    f.remove('pod', 'default', 'a1');
    f.pod('default', 'a5', 'vm1');
    const p = f.startWatcher(['--no-leader-election', '--nested-vlan-range', '1-3']);
    await until(() => /reconcile \(start\) done/.test(p.log()), 30000, 'restart reconcile done');
    await until(() => f.lsp('default_a1') === undefined, 10000, "a1's child port deleted");
    await until(() => vlanOf('a5'), 10000, 'a5 annotated');
    assert.deepEqual(child('a5'), { parent: 'vm1-nic', tag: a1Tag, tagRequest: a1Tag }, "a5 gets a1's freed tag");
    assert.equal(vlanOf('a5'), a1Tag);
    assert.deepEqual(f.events('default', 'a5', 'VlanTagsExhausted'), [], 'a5 never saw vm1-nic full: the stale port went first');
    const tags = f.nb.cache.lookupAll('Logical_Switch_Port', 'parent_name', 'vm1-nic').map((l) => l.tag);
    assert.deepEqual([...tags].sort(), [1, 2, 3], 'one child port per tag on vm1-nic');
    assert.equal(new Set(tags).size, tags.length, 'no duplicate tag on vm1-nic');
  });
});
