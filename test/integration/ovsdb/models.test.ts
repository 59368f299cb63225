// The generated models against real servers of the other schemas: Open_vSwitch (written by ovs-vsctl) and OVN SB.
import assert from 'node:assert/strict';
import { OvsdbClient, ref } from '../../../lib/ovsdb/index.js';
import { VSWITCH_MODEL, type VSWITCHTables } from '../../../lib/ovsdb/models/vswitch.js';
import { SB_MODEL } from '../../../lib/ovsdb/models/sb.js';
import { startOvsdbServer, spawnOut, ovsEnv, SCHEMAS, type OvsdbServer } from '../../../testkit/ovsdb-server.js';

describe('ovsdb generated models on real servers', function () {
  this.timeout(30000);
  const servers: OvsdbServer[] = [];
  after(async () => {
    for (const s of servers) await s.cleanup();
  });

  it('Open_vSwitch: ovs-vsctl writes, the typed cache reads; our writes are visible to ovs-vsctl', async () => {
    const s = await startOvsdbServer({ schema: SCHEMAS.vswitch });
    servers.push(s);
    const vsctl = (...a: string[]): Promise<string> => spawnOut('ovs-vsctl', [`--db=${s.unix}`, '--no-wait', ...a], ovsEnv(s.dir));
    await vsctl('init');
    await vsctl('add-br', 'br-int', '--', 'set', 'Bridge', 'br-int', 'datapath_type=netdev', 'fail_mode=secure');
    await vsctl('add-port', 'br-int', 'veth0', '--', 'set', 'Interface', 'veth0', 'external_ids:iface-id=default_web-1', 'ofport_request=7');
    const ovs = await OvsdbClient.connect(VSWITCH_MODEL, { remotes: s.unix });
    try {
      await ovs.monitor(['Open_vSwitch', 'Bridge', 'Port', 'Interface']);
      const br = ovs.cache.lookup('Bridge', 'name', 'br-int')!;
      assert.equal(br.datapath_type, 'netdev');
      assert.equal(br.fail_mode, 'secure');
      const iface = ovs.cache.lookup('Interface', 'name', 'veth0')!;
      assert.equal(iface.external_ids['iface-id'], 'default_web-1');
      assert.equal(iface.ofport_request, 7);
      const port = ovs.cache.lookup('Port', 'name', 'veth0')!;
      assert.deepEqual(port.interfaces, [iface._uuid]);
      assert.ok(br.ports.includes(port._uuid));
      assert.equal(ovs.cache.list('Open_vSwitch')[0]!.bridges[0], br._uuid);

      // Add a port the way the agent does, then ask ovs-vsctl.
      await ovs.transact([
        ovs.op.insert('Interface', { name: 'veth1', type: '', external_ids: { 'iface-id': 'default_web-2' } }, 'i'),
        ovs.op.insert('Port', { name: 'veth1', interfaces: [ref('i')] }, 'p'),
        ovs.op.mutate('Bridge', [['name', '==', 'br-int']], [['ports', 'insert', [ref('p')]]]),
      ]);
      assert.match(await vsctl('list-ports', 'br-int'), /^veth0\nveth1\n$/);
      assert.equal((await vsctl('get', 'Interface', 'veth1', 'external_ids:iface-id')).trim(), 'default_web-2');
      await ovs.waitFor('Interface', (i) => i.name === 'veth1', 5000);
    } finally {
      ovs.close();
    }
  });

  it('OVN_Southbound: monitor Chassis as written by ovn-sbctl', async () => {
    const s = await startOvsdbServer({ schema: SCHEMAS.sb });
    servers.push(s);
    const sb = await OvsdbClient.connect(SB_MODEL, { remotes: s.unix });
    try {
      await sb.monitor(['Chassis', 'Encap']);
      await spawnOut('ovn-sbctl', [`--db=${s.unix}`, 'chassis-add', 'node1', 'geneve', '192.0.2.10'], ovsEnv(s.dir));
      const ch = await sb.waitFor('Chassis', (c) => c.name === 'node1', 5000);
      assert.equal(ch.encaps.length, 1);
      assert.equal(sb.cache.get('Encap', ch.encaps[0]!)?.ip, '192.0.2.10');
    } finally {
      sb.close();
    }
  });
});
