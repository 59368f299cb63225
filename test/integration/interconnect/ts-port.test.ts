// The transit switch port against a real NB ovsdb-server: created linked to the cluster router with its HA gateway
// chassis, idempotent, and a repair of a drifted port never drops ovn-ic's requested-tnl-key.
import assert from 'node:assert/strict';
import { startOvsdbServer, spawnOut, type OvsdbServer } from '../../../testkit/ovsdb-server.js';
import { OvsdbClient } from '../../../lib/ovsdb/index.js';
import { NB_MODEL, type NBTables } from '../../../lib/ovsdb/models/nb.js';
import { CLUSTER_ROUTER } from '../../../lib/ovn/names.js';
import { addressAtOffset, ensureTsPortOps, gatewayPriorities, TNL_KEY_OPTION } from '../../../lib/ovn/interconnect.js';
import { TS_NAME, tsRouterPort, tsSwitchPort } from '../../../lib/ovn/names.js';

describe('interconnect: ts port (real NB)', () => {
  let srv: OvsdbServer;
  let nb: OvsdbClient<NBTables>;
  const az = 'az1';
  const nbctl = (...args: string[]) => spawnOut('ovn-nbctl', [`--db=${srv.unix}`, ...args]);

  before(async () => {
    srv = await startOvsdbServer();
    await nbctl('lr-add', CLUSTER_ROUTER);
    await nbctl('ls-add', TS_NAME);
    nb = await OvsdbClient.connect(NB_MODEL, { remotes: [srv.unix] });
    await nb.monitor(['Logical_Router', 'Logical_Router_Port', 'Logical_Switch', 'Logical_Switch_Port', 'Gateway_Chassis']);
  });
  after(async () => {
    nb?.close();
    await srv?.cleanup();
  });

  const ensure = async () => {
    const router = nb.cache.lookup('Logical_Router', 'name', CLUSTER_ROUTER)!;
    const ts = nb.cache.lookup('Logical_Switch', 'name', TS_NAME)!;
    const ops = ensureTsPortOps(nb, { az, router, ts, addr: addressAtOffset(10), gateways: gatewayPriorities(['gw1', 'gw2']) });
    if (ops.length) await nb.transact(ops);
    return ops.length;
  };
  const lspOption = async (key: string) => (await nbctl('--if-exists', 'get', 'Logical_Switch_Port', tsSwitchPort(az), `options:${key}`)).trim();

  it('creates the router port with its gateways, and the switch port linked to it', async () => {
    assert.ok(await ensure());
    assert.match(await nbctl('lrp-get-gateway-chassis', tsRouterPort(az)), /gw1\s+100\n.*gw2\s+99/s);
    assert.equal((await nbctl('get', 'Logical_Switch_Port', tsSwitchPort(az), 'type')).trim(), 'router');
    assert.equal(await lspOption('router-port'), tsRouterPort(az));
    await nb.waitFor('Logical_Switch_Port', (p) => p.name === tsSwitchPort(az), 5000);
    assert.equal(await ensure(), 0, 'idempotent');
  });

  it('leaves the key ovn-ic writes alone', async () => {
    await nbctl('set', 'Logical_Switch_Port', tsSwitchPort(az), `options:${TNL_KEY_OPTION}=4`);
    await nb.waitFor('Logical_Switch_Port', (p) => p.name === tsSwitchPort(az) && p.options[TNL_KEY_OPTION] === '4', 5000);
    assert.equal(await ensure(), 0);
  });

  it('repairs a drifted port without dropping the key', async () => {
    await nbctl('set', 'Logical_Switch_Port', tsSwitchPort(az), 'type=""', 'options:router-port=elsewhere');
    await nb.waitFor('Logical_Switch_Port', (p) => p.name === tsSwitchPort(az) && p.type === '', 5000);
    assert.ok(await ensure());
    assert.equal((await nbctl('get', 'Logical_Switch_Port', tsSwitchPort(az), 'type')).trim(), 'router');
    assert.equal(await lspOption('router-port'), tsRouterPort(az));
    assert.equal(await lspOption(TNL_KEY_OPTION), '"4"');
  });
});
