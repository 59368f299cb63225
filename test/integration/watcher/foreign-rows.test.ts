// Rows Tessera does not own (issue 19), in the places its own garbage collection and port writes reach: another
// writer's port in a node switch survives the Node's removal, and a foreign port that has a pod port's name is
// never taken over. Both stay byte for byte; the user is told with a Warning Event.
import assert from 'node:assert/strict';
import { useWatcherFixture, until, sleep } from './fixture.js';

describe("watcher: another writer's rows in Tessera's switches (real NB, ovn-nbctl as the other writer)", function () {
  this.timeout(120000);
  const f = useWatcherFixture(['n1', 'n2']);

  before(async () => {
    f.namespace('prod');
    f.startWatcher();
    await until(() => f.ls('n1') && f.ls('n2') && f.lsp('stor-n2'), 30000, 'node switches');
  });

  it("a removed Node's switch that holds a foreign port keeps it and that port; only Tessera's rows go, with one Warning Event", async () => {
    await f.nbctl('lsp-add', 'n2', 'foreign-n2', '--', 'lsp-set-addresses', 'foreign-n2', '02:00:00:00:00:22 10.99.0.22', '--', 'set', 'Logical_Switch_Port', 'foreign-n2', 'external_ids:team=storage');
    const port = await until(() => f.lsp('foreign-n2'), 5000, 'foreign port in our cache');
    const before = JSON.stringify(port);
    f.remove('node', undefined, 'n2');
    await until(() => !f.nb.cache.lookup('Logical_Router_Port', 'name', 'rtos-n2') && !f.lsp('stor-n2'), 10000, "the node's router link removed");
    const ls = f.ls('n2');
    assert.ok(ls, 'the switch holding the foreign port is kept');
    assert.deepEqual(ls.ports, [port._uuid], 'only the foreign port is left in it');
    assert.equal(ls.external_ids['tessera.io/owner'], undefined, 'the kept switch no longer carries our owner id');
    assert.equal(JSON.stringify(f.lsp('foreign-n2')), before, 'the foreign port unchanged, byte for byte');
    const ev = await until(() => f.events('default', 'n2', 'ForeignPortsKept')[0], 5000, 'ForeignPortsKept Event');
    assert.equal(ev.type, 'Warning');
    assert.match(String(ev.message), /foreign-n2/);
    // A restart's full reconcile leaves it alone: no second Event, nothing changed.
    await f.procs[0].kill('SIGKILL');
    const p = f.startWatcher();
    await until(() => /reconcile \(start\) done/.test(p.log()), 30000, 'restart reconcile done');
    await sleep(1000);
    assert.equal(f.events('default', 'n2', 'ForeignPortsKept').length, 1, 'one Event, not one per reconcile');
    assert.equal(JSON.stringify(f.lsp('foreign-n2')), before, 'the foreign port still unchanged after the restart');
    assert.deepEqual(f.ls('n2')?.ports, [port._uuid]);
  });

  it("a pod whose port name a foreign port holds gets PortNameTaken and pod-network-error; the foreign port stays byte for byte", async () => {
    await f.nbctl('lsp-add', 'n1', 'prod_taken', '--', 'lsp-set-addresses', 'prod_taken', '02:00:00:00:00:33 10.99.0.33');
    const port = await until(() => f.lsp('prod_taken'), 5000, 'foreign port in our cache');
    const before = JSON.stringify(port);
    f.pod('prod', 'taken', 'n1');
    f.pod('prod', 'fine', 'n1');
    const ev = await until(() => f.events('prod', 'taken', 'PortNameTaken')[0], 10000, 'PortNameTaken Event on the pod');
    assert.equal(ev.type, 'Warning');
    assert.match(String(ev.message), /prod_taken/);
    const pod = await until(() => { const p = f.get('pod', 'prod', 'taken'); return p?.metadata.annotations?.['tessera.io/pod-network-error'] ? p : undefined; }, 5000, 'pod-network-error');
    assert.match(pod.metadata.annotations!['tessera.io/pod-network-error']!, /PortNameTaken/);
    assert.equal(f.podNetwork('prod', 'taken'), undefined, 'no network announced for the pod');
    await until(() => f.podNetwork('prod', 'fine'), 10000, 'another pod still gets its network');
    await sleep(1000); // retries and drift repair have had their chance
    assert.equal(JSON.stringify(f.lsp('prod_taken')), before, 'the foreign port unchanged, byte for byte');
    assert.equal(f.events('prod', 'taken', 'PortNameTaken').length, 1, 'one Event while retrying');
    // Deleting the pod leaves the foreign port alone too.
    f.remove('pod', 'prod', 'taken');
    await sleep(1000);
    assert.equal(JSON.stringify(f.lsp('prod_taken')), before, 'the foreign port unchanged after the pod is gone');
  });
});
