// lib/ovn against a real OVN NB ovsdb-server: one desired state of every row kind the vocabulary writes, applied,
// read back with ovn-nbctl, applied again without a single write, then repaired after drift without touching what
// others own (another writer's route and NB_Global keys, ovn-ic-style port options).
import assert from 'node:assert/strict';
import { OvsdbClient } from '../../../lib/ovsdb/index.js';
import { NB_MODEL, type NBTables } from '../../../lib/ovsdb/models/nb.js';
import { Txn } from '../../../lib/ovn/txn.js';
import { commitAlone } from '../../../lib/ovn/commit.js';
import { ensureRouter, ensureRouterPort, type GatewayChassisSpec } from '../../../lib/ovn/router.js';
import { ensureSwitch } from '../../../lib/ovn/switch.js';
import { createOrUpdatePort, setPortOptions } from '../../../lib/ovn/lsp.js';
import { attachLoadBalancer, ensureLoadBalancer } from '../../../lib/ovn/load-balancer.js';
import { convergeNats, convergeRouterPolicies, convergeStaticRoutes } from '../../../lib/ovn/router-children.js';
import { ensurePortGroup } from '../../../lib/ovn/port-group.js';
import { ensureAddressSet } from '../../../lib/ovn/address-set.js';
import { changeNbGlobal } from '../../../lib/ovn/nb-global.js';
import { gatewayIds, isGatewayOurs } from '../../../lib/ovn/names.js';
import { startOvsdbServer, type OvsdbServer } from '../../../testkit/ovsdb-server.js';

const ids = gatewayIds('n1', 'test');
const mine = (x: Record<string, string>): boolean => isGatewayOurs(x, 'n1');

/** Every kind at once, as a writer would compose them into one transaction. */
function desired(nb: OvsdbClient<NBTables>, gateways: GatewayChassisSpec[]): Txn {
  const txn = new Txn(nb.cache, 'vocabulary test');
  const lr = ensureRouter(txn, { name: 'GR_n1', options: { chassis: 'ch1' }, external_ids: ids });
  ensureRouterPort(txn, 'GR_n1', { name: 'rtoe-GR_n1', mac: '0a:58:c0:a8:05:0b', networks: ['192.168.5.11/24'], external_ids: ids, gateway_chassis: gateways });
  ensureSwitch(txn, { name: 'ext_n1', other_config: {}, external_ids: ids });
  const port = createOrUpdatePort(txn, 'ext_n1', { name: 'etor-GR_n1', type: 'router', addresses: ['router'], options: { 'router-port': 'rtoe-GR_n1' }, external_ids: ids });
  const have = nb.cache.lookup('Logical_Router', 'name', 'GR_n1');
  convergeStaticRoutes(txn, lr, have?.static_routes ?? [], [{ ip_prefix: '0.0.0.0/0', nexthop: '192.168.5.1', output_port: 'rtoe-GR_n1', external_ids: ids }], mine);
  convergeNats(txn, lr, have?.nat ?? [], [{ type: 'snat', logical_ip: '10.244.0.0/16', external_ip: '192.168.5.11', external_ids: ids }], mine);
  convergeRouterPolicies(txn, lr, have?.policies ?? [], [{ priority: 1004, match: 'ip4.dst == 192.168.5.11', action: 'reroute', nexthops: ['10.244.1.2'], external_ids: ids }], mine);
  const lb = ensureLoadBalancer(txn, { name: 'gw_n1_web_tcp', protocol: 'tcp', vips: { '192.168.5.11:30080': '10.244.1.5:8080' }, options: { reject: 'true' }, selection_fields: [], external_ids: ids });
  const sw = nb.cache.lookup('Logical_Switch', 'name', 'ext_n1');
  if (have) attachLoadBalancer(txn, 'Logical_Router', have, lb);
  if (sw) attachLoadBalancer(txn, 'Logical_Switch', sw, lb);
  ensureAddressSet(txn, 'tessera_test_as', ['10.244.1.5', '10.244.1.6'], ids);
  ensurePortGroup(txn, { name: 'tessera_test_pg', ports: [port], acls: [{ direction: 'to-lport', priority: 1000, match: 'outport == @tessera_test_pg && ip', action: 'drop', external_ids: ids }], external_ids: ids });
  changeNbGlobal(txn, { dropOptions: ['tessera-test-old'], setOptions: { 'tessera-test': 'on' } });
  return txn;
}

describe('lib/ovn vocabulary against a real NB ovsdb-server', function () {
  this.timeout(30_000);
  let server: OvsdbServer;
  let nb: OvsdbClient<NBTables>;
  const nbctl = (args: string[]): Promise<string> => server.run('ovn-nbctl', [`--db=${server.unix}`, ...args]);
  const gws = (first: string): GatewayChassisSpec[] => ['ch1', 'ch2'].sort((a) => (a === first ? -1 : 1)).map((c, i) => ({ name: `rtoe-GR_n1-${c}`, chassis_name: c, priority: 100 - i, external_ids: ids }));

  before(async () => {
    server = await startOvsdbServer({});
    await nbctl(['init']);
    await nbctl(['set', 'NB_Global', '.', 'options:mac_prefix=0a:00:00', 'options:tessera-test-old=x']);
    nb = await OvsdbClient.connect(NB_MODEL, { remotes: [server.unix] });
    await nb.monitor(Object.keys(NB_MODEL.tables) as Array<keyof NBTables & string>);
  });
  after(async () => {
    nb?.close();
    await server?.cleanup();
  });

  it('creates every row kind in one transaction; the same desired state again writes nothing', async () => {
    assert.ok((await commitAlone(nb, desired(nb, gws('ch1')))) > 10);
    // Attachments refer to rows that exist once the first pass committed: the second pass adds them.
    assert.ok((await commitAlone(nb, desired(nb, gws('ch1')))) > 0);
    assert.equal(await commitAlone(nb, desired(nb, gws('ch1'))), 0, 'converged: no write');
    assert.match(await nbctl(['lr-route-list', 'GR_n1']), /0\.0\.0\.0\/0\s+192\.168\.5\.1 dst-ip rtoe-GR_n1/);
    assert.match(await nbctl(['lr-nat-list', 'GR_n1']), /snat\s+192\.168\.5\.11\s+10\.244\.0\.0\/16/);
    assert.match(await nbctl(['lr-policy-list', 'GR_n1']), /1004\s+ip4\.dst == 192\.168\.5\.11\s+reroute\s+10\.244\.1\.2/);
    assert.match(await nbctl(['lrp-get-gateway-chassis', 'rtoe-GR_n1']), /rtoe-GR_n1-ch1\s+100\n\s*rtoe-GR_n1-ch2\s+99/);
    assert.match(await nbctl(['lr-lb-list', 'GR_n1']), /gw_n1_web_tcp/);
    assert.match(await nbctl(['ls-lb-list', 'ext_n1']), /gw_n1_web_tcp/);
    assert.equal((await nbctl(['get', 'Address_Set', 'tessera_test_as', 'addresses'])).trim(), '["10.244.1.5", "10.244.1.6"]');
    assert.match(await nbctl(['acl-list', 'tessera_test_pg']), /to-lport\s+1000 \(outport == @tessera_test_pg && ip\) drop/);
    assert.equal((await nbctl(['get', 'NB_Global', '.', 'options'])).trim(), '{mac_prefix="0a:00:00", tessera-test=on}');
  });

  it('repairs drift and leaves what others own', async () => {
    await nbctl(['lr-nat-del', 'GR_n1', '--', 'lr-route-add', 'GR_n1', '10.0.0.0/8', '192.168.5.254']);
    const n = await (async () => {
      for (let i = 0; i < 50 && (nb.cache.lookup('Logical_Router', 'name', 'GR_n1')?.nat.length ?? 0) > 0; i++) await new Promise((r) => setTimeout(r, 20));
      return commitAlone(nb, desired(nb, gws('ch2')));
    })();
    assert.ok(n > 0 && n <= 6, `a small repair (${n} ops): the NAT back, the gateway chassis replaced`);
    assert.match(await nbctl(['lr-nat-list', 'GR_n1']), /snat\s+192\.168\.5\.11/);
    assert.match(await nbctl(['lr-route-list', 'GR_n1']), /10\.0\.0\.0\/8\s+192\.168\.5\.254/, 'a route someone else added stays');
    assert.match(await nbctl(['lrp-get-gateway-chassis', 'rtoe-GR_n1']), /rtoe-GR_n1-ch2\s+100\n\s*rtoe-GR_n1-ch1\s+99/);
    assert.equal((await nbctl(['--bare', '--columns=_uuid', 'list', 'Gateway_Chassis'])).split('\n').filter((l) => l !== '').length, 2, 'the replaced rows are gone');
  });

  it('setPortOptions sets one key and keeps the others (ovn-ic\'s requested-tnl-key)', async () => {
    await nbctl(['set', 'Logical_Switch_Port', 'etor-GR_n1', 'options:requested-tnl-key=7']);
    for (let i = 0; i < 50 && nb.cache.lookup('Logical_Switch_Port', 'name', 'etor-GR_n1')?.options['requested-tnl-key'] === undefined; i++) await new Promise((r) => setTimeout(r, 20));
    const lsp = nb.cache.lookup('Logical_Switch_Port', 'name', 'etor-GR_n1')!;
    const txn = new Txn(nb.cache);
    setPortOptions(txn, lsp, { 'router-port': 'rtoe-GR_n1-renamed' });
    await commitAlone(nb, txn);
    assert.equal((await nbctl(['get', 'Logical_Switch_Port', 'etor-GR_n1', 'options'])).trim(), '{requested-tnl-key="7", router-port=rtoe-GR_n1-renamed}');
  });
});
