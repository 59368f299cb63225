// Reconcile: stale rows of ours go (others' stay), kill -9 mid-burst leaves no stale rows, duplicate or
// leaked IPs, a crash between the NB write and the annotation is healed from NB, and an OVSDB restart
// with changes made meanwhile converges again.
import assert from 'node:assert/strict';
import { ref } from '../../../lib/ovsdb/index.js';
import { OWNER_KEY } from '../../../lib/ovn/names.js';
import { useWatcherFixture, until, sleep } from './fixture.js';

const ours = (kind: string, object: string) => ({ [OWNER_KEY]: 'tessera-watcher', 'tessera.io/kind': kind, 'tessera.io/object': object });

describe('watcher: reconcile and crash safety (real NB)', function () {
  this.timeout(240000);
  const f = useWatcherFixture(['n1', 'n2']);

  /** Every pod that should have a port has exactly one, matching its annotation; no IP twice; none extra. */
  function assertConsistent(): void {
    const pods = f.list('pod').filter((p) => !(p.spec as { hostNetwork?: boolean }).hostNetwork);
    const lsps = f.nb.cache.list('Logical_Switch_Port').filter((l) => l.external_ids['tessera.io/kind'] === 'pod');
    assert.equal(lsps.length, pods.length, 'one LSP per pod, no stale LSPs');
    const ips = lsps.map((l) => l.addresses[0].split(' ')[1]);
    assert.equal(new Set(ips).size, ips.length, 'no IP on two LSPs');
    for (const p of pods) {
      const net = f.podNetwork(p.metadata.namespace!, p.metadata.name!);
      assert.ok(net, `${p.metadata.name} annotated`);
      const lsp = f.lsp(`${p.metadata.namespace}_${p.metadata.name}`);
      assert.ok(lsp, `${p.metadata.name} has an LSP`);
      assert.equal(lsp.addresses[0].split(' ')[1], net.ip_addresses[0].split('/')[0], `${p.metadata.name}: LSP and annotation agree`);
      const ls = f.ls(net.logical_switch)!;
      assert.ok(ls.ports.includes(lsp._uuid), `${p.metadata.name} is on ${net.logical_switch}`);
    }
  }

  it('on start, removes stale rows we own and keeps rows we do not', async () => {
    await f.masterInit();
    // Rows a previous watcher left for objects that no longer exist, plus someone else's switch.
    await f.nb.transact([
      f.nb.op.insert('Logical_Switch', { name: 'ghost-node', external_ids: { ...ours('node', 'ghost-node'), 'tessera.io/subnet': '10.244.200.0/24' }, ports: [ref('gp')] }),
      f.nb.op.insert('Logical_Switch_Port', { name: 'default_ghost', addresses: ['0a:58:0a:f4:c8:03 10.244.200.3'], external_ids: ours('pod', 'default/ghost') }, 'gp'),
      f.nb.op.insert('Logical_Switch', { name: 'not-ours', external_ids: { owner: 'someone-else' } }),
      f.nb.op.insert('Load_Balancer', { name: 'tessera_svc_default/ghost_tcp', protocol: 'tcp', vips: { '10.96.9.9:80': '' }, external_ids: ours('service', 'default/ghost') }),
      f.nb.op.insert('Port_Group', { name: 'tessera_np_0000000000000000', external_ids: ours('network-policy', 'default/ghost') }),
      f.nb.op.insert('Address_Set', { name: 'tessera_np_0000000000000001', external_ids: ours('network-policy', 'default/ghost') }),
    ]);
    const w = f.startWatcher();
    await until(() => !f.ls('ghost-node') && !f.lsp('default_ghost'), 30000, 'stale node switch and port removed');
    await until(() => !f.nb.cache.lookup('Load_Balancer', 'name', 'tessera_svc_default/ghost_tcp'), 5000, 'stale LB removed');
    await until(() => !f.nb.cache.lookup('Port_Group', 'name', 'tessera_np_0000000000000000') && !f.nb.cache.lookup('Address_Set', 'name', 'tessera_np_0000000000000001'), 5000, 'stale policy rows removed');
    assert.ok(f.ls('not-ours'), 'a switch we do not own is left alone');
    await w.kill('SIGTERM');
  });

  it('kill -9 mid-burst, pods deleted while down, restart: no stale rows, no duplicate or leaked IP', async () => {
    const w = f.startWatcher();
    await until(() => f.ls('n1') && f.ls('n2'), 30000, 'node switches');
    for (let i = 0; i < 150; i++) f.pod('default', `burst-${i}`, i % 2 ? 'n1' : 'n2');
    await until(() => f.nb.cache.list('Logical_Switch_Port').filter((l) => l.name.startsWith('default_burst-')).length >= 20, 20000, 'burst under way');
    await w.kill('SIGKILL');
    const done = f.list('pod', 'default').filter((p) => p.metadata.annotations?.['tessera.io/pod-networks']).length;
    assert.ok(done < 150, `killed mid-burst (${done}/150 annotated)`);
    // While it is down: some pods go, some finish, new ones come.
    for (let i = 0; i < 10; i++) f.remove('pod', 'default', `burst-${i}`);
    for (let i = 10; i < 15; i++) f.setPodPhase('default', `burst-${i}`, 'Failed');
    for (let i = 150; i < 160; i++) f.pod('default', `burst-${i}`, 'n1');
    f.startWatcher();
    await until(() => {
      const pods = f.list('pod', 'default').filter((p) => !['Failed', 'Succeeded'].includes((p.status as { phase?: string } | undefined)?.phase ?? ''));
      return pods.every((p) => p.metadata.annotations?.['tessera.io/pod-networks']) && f.nb.cache.list('Logical_Switch_Port').filter((l) => l.external_ids['tessera.io/kind'] === 'pod').length === pods.length;
    }, 60000, 'all pods annotated, failed and deleted pods without LSPs');
    for (let i = 10; i < 15; i++) f.remove('pod', 'default', `burst-${i}`); // finished pods: gone from the API too
    await sleep(200);
    assertConsistent();
  });

  it('heals a crash between the NB write and the annotation from NB (the pod keeps that address)', async () => {
    for (const p of f.procs) await p.kill('SIGKILL');
    const n1 = f.ls('n1')!;
    const base = n1.other_config.subnet.replace(/0\/24$/, '');
    // What a watcher that died right after its NB transaction leaves: an LSP, no annotation.
    f.pod('default', 'half', 'n1');
    await f.nb.transact([
      f.nb.op.insert('Logical_Switch_Port', { name: 'default_half', addresses: [`0a:58:00:00:00:01 ${base}250`], port_security: [`0a:58:00:00:00:01 ${base}250`], external_ids: { ...ours('pod', 'default/half'), namespace: 'default', pod: 'half' } }, 'h'),
      f.nb.op.mutate('Logical_Switch', [['_uuid', '==', n1._uuid]], [['ports', 'insert', [ref('h')]]]),
    ]);
    for (let i = 0; i < 5; i++) f.pod('default', `after-${i}`, 'n1');
    f.startWatcher();
    const net = await until(() => f.podNetwork('default', 'half'), 30000, 'half annotated');
    assert.deepEqual(net.ip_addresses, [`${base}250/24`]);
    await until(() => [0, 1, 2, 3, 4].every((i) => f.podNetwork('default', `after-${i}`)), 10000, 'others annotated');
    assertConsistent();
  });

  it('after an OVSDB restart with rows changed meanwhile, converges again', async () => {
    const victim = f.lsp('default_burst-20')!;
    await f.nbServer.stop();
    // Change the database file while the server is down, as a restore from backup would.
    const holder = f.nb.cache.find('Logical_Switch', (ls) => ls.ports.includes(victim._uuid))!;
    const out = await f.nbServer.run('ovsdb-tool', ['transact', f.nbServer.db, JSON.stringify(['OVN_Northbound', { op: 'mutate', table: 'Logical_Switch', where: [['_uuid', '==', ['uuid', holder._uuid]]], mutations: [['ports', 'delete', ['uuid', victim._uuid]]] }])]);
    assert.match(out, /"count":1/, `offline change applied: ${out}`);
    f.pod('default', 'while-nb-down', 'n2');
    await f.nbServer.start();
    const back = await until(() => {
      const l = f.lsp('default_burst-20');
      return l && l._uuid !== victim._uuid && f.podNetwork('default', 'while-nb-down') && f.lsp('default_while-nb-down') && l;
    }, 60000, 'LSPs back after NB restart');
    assert.deepEqual(back.addresses, victim.addresses, 'recreated with the same address');
    assertConsistent();
  });
});
