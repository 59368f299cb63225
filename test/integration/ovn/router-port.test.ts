// ensureRouterPort against a real OVN NB ovsdb-server: a router port another router holds is moved, never shared.
// OVSDB accepts a second strong reference to a Logical_Router_Port, so two routers listing one port is NB that
// northd cannot make sense of; the move must take it off the first router in the same transaction.
import assert from 'node:assert/strict';
import { OvsdbClient } from '../../../lib/ovsdb/index.js';
import { NB_MODEL, type NBTables } from '../../../lib/ovsdb/models/nb.js';
import { Txn } from '../../../lib/ovn/txn.js';
import { commitAlone } from '../../../lib/ovn/commit.js';
import { ensureRouter, ensureRouterPort, type RouterPortSpec } from '../../../lib/ovn/router.js';
import { startOvsdbServer, type OvsdbServer } from '../../../testkit/ovsdb-server.js';

const ids = { 'tessera.io/owner': 'router-port-test' };
const port: RouterPortSpec = { name: 'rtos-moved', mac: '0a:58:0a:f4:07:01', networks: ['10.244.7.1/24'], external_ids: ids };

describe('lib/ovn ensureRouterPort against a real NB ovsdb-server: one router per port', function () {
  this.timeout(30_000);
  let server: OvsdbServer;
  let nb: OvsdbClient<NBTables>;
  const nbctl = (args: string[]): Promise<string> => server.run('ovn-nbctl', [`--db=${server.unix}`, ...args]);
  const portsOf = async (router: string): Promise<string[]> =>
    (await nbctl(['lrp-list', router])).split('\n').filter((l) => l !== '').map((l) => l.replace(/^\S+\s+\((.*)\)$/, '$1'));
  /** Routers whose `ports` reference the port, read from the server, not from the client's cache. */
  const holders = async (): Promise<string[]> => {
    const uuid = (await nbctl(['--bare', '--columns=_uuid', 'find', 'Logical_Router_Port', `name=${port.name}`])).trim();
    assert.match(uuid, /^[0-9a-f-]{36}$/, `exactly one ${port.name} row`);
    return (await nbctl(['--bare', '--columns=name', 'find', 'Logical_Router', `ports{>=}${uuid}`])).split('\n').filter((l) => l !== '').sort();
  };
  const apply = (build: (t: Txn) => void): Promise<number> => {
    const t = new Txn(nb.cache, 'router-port test');
    build(t);
    return commitAlone(nb, t);
  };

  before(async () => {
    server = await startOvsdbServer({});
    await nbctl(['init']);
    nb = await OvsdbClient.connect(NB_MODEL, { remotes: [server.unix] });
    await nb.monitor(['Logical_Router', 'Logical_Router_Port', 'Gateway_Chassis']);
  });
  after(async () => {
    nb?.close();
    await server?.cleanup();
  });

  it('moves a port another router holds to the named router, in one transaction; again writes nothing', async () => {
    await apply((t) => {
      ensureRouter(t, { name: 'r1', external_ids: ids });
      ensureRouter(t, { name: 'r2', external_ids: ids });
    });
    await apply((t) => ensureRouterPort(t, 'r1', port));
    assert.deepEqual(await holders(), ['r1']);
    await apply((t) => ensureRouterPort(t, 'r2', port));
    assert.deepEqual(await holders(), ['r2'], 'taken off r1, not shared');
    assert.deepEqual(await portsOf('r1'), []);
    assert.deepEqual(await portsOf('r2'), [port.name]);
    assert.equal(await apply((t) => ensureRouterPort(t, 'r2', port)), 0, 'converged: no write');
  });

  it('moves it to a router inserted in the same transaction', async () => {
    await apply((t) => {
      ensureRouter(t, { name: 'r3', external_ids: ids });
      ensureRouterPort(t, 'r3', port);
    });
    assert.deepEqual(await holders(), ['r3']);
    assert.deepEqual(await portsOf('r2'), []);
  });

  it('takes it off every other router that (corruptly) holds it, keeping the row', async () => {
    // Someone else's write left the port on two routers at once.
    const uuid = (await nbctl(['--bare', '--columns=_uuid', 'find', 'Logical_Router_Port', `name=${port.name}`])).trim();
    await nbctl(['add', 'Logical_Router', 'r1', 'ports', uuid]);
    await nbctl(['add', 'Logical_Router', 'r2', 'ports', uuid]);
    assert.deepEqual(await holders(), ['r1', 'r2', 'r3']);
    for (let i = 0; i < 50 && nb.cache.filter('Logical_Router', (r) => r.ports.includes(uuid)).length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    await apply((t) => ensureRouterPort(t, 'r1', port));
    assert.deepEqual(await holders(), ['r1']);
    assert.equal((await nbctl(['--bare', '--columns=_uuid', 'find', 'Logical_Router_Port', `name=${port.name}`])).trim(), uuid, 'the same row, not re-created');
  });
});
