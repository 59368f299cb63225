// tessera-watcher against a real NB and the API test double: the node-IP address set follows the Nodes' InternalIPs
// (add, IP change, delete, nodes gone while the watcher was down) and every node switch's protected-endpoints ACL
// carries the --protected-node-port term over it and the management-IP set.
import assert from 'node:assert/strict';
import { WatcherFixture, until, rt } from './fixture.js';
import { macFromIPv4 } from '../../../lib/ovn/names.js';

const NODE_IPS = 'tessera_node_ips';
const PORT_TERM = '(ip4.dst == {$tessera_node_ips, $tessera_node_mgmt} && tcp.dst == {9476, 9478})';

describe('watcher: node-IP address set and protected node ports (real NB)', function () {
  this.timeout(60000);
  const f = new WatcherFixture();
  const args = ['--no-leader-election', '--protected-node-port', '9478', '--protected-node-port', '9476'];
  before(async () => {
    await f.start();
  });
  after(async () => {
    await f.stop();
  });

  const setStatusIPs = (name: string, ips: string[]): void => {
    const node = f.store.get(rt.node, undefined, name);
    const addresses = [...ips.map((address) => ({ type: 'InternalIP', address })), { type: 'Hostname', address: name }];
    f.store.update(rt.node, undefined, name, { ...node, status: { addresses } }, 'status');
  };
  const nodeIps = (): string[] => [...(f.nb.cache.lookup('Address_Set', 'name', NODE_IPS)?.addresses ?? [])].sort();
  const waitIps = (want: string[], what: string): Promise<unknown> =>
    until(() => JSON.stringify(nodeIps()) === JSON.stringify([...want].sort()), 15000, `${what}: ${NODE_IPS} = ${want.join(',')} (have ${nodeIps().join(',')})`);

  it('fills the set with every Node\'s InternalIPs of the cluster family, skipping other types and families', async () => {
    f.node('n1');
    setStatusIPs('n1', ['192.168.80.11', 'fd00::11']);
    f.node('n2');
    setStatusIPs('n2', ['192.168.80.12']);
    f.node('n3');
    const n3 = f.store.get(rt.node, undefined, 'n3');
    f.store.update(rt.node, undefined, 'n3', { ...n3, status: { addresses: [{ type: 'ExternalIP', address: '203.0.113.3' }, { type: 'InternalIP', address: '192.168.80.13' }] } }, 'status');
    f.startWatcher(args);
    await waitIps(['192.168.80.11', '192.168.80.12', '192.168.80.13'], 'initial nodes');
  });

  it('puts the node-port term on every node switch\'s protected-endpoints ACL', async () => {
    for (const n of ['n1', 'n2', 'n3']) {
      const ls = await until(() => f.ls(n), 10000, `switch ${n}`);
      const acls = ls.acls.map((u) => f.nb.cache.get('ACL', u)).filter((a) => a?.external_ids['tessera.io/object'] === 'protected-endpoints');
      assert.equal(acls.length, 1, `${n}: one protected-endpoints ACL`);
      assert.deepEqual([acls[0]!.priority, acls[0]!.direction, acls[0]!.action], [990, 'from-lport', 'drop']);
      const routerMac = macFromIPv4(ls.other_config.subnet!.replace(/0\/24$/, '1'));
      assert.equal(acls[0]!.match, `eth.src != ${routerMac} && tcp && ${PORT_TERM}`);
    }
  });

  it('follows a Node\'s InternalIP change and a Node delete', async () => {
    setStatusIPs('n2', ['192.168.80.22']);
    await waitIps(['192.168.80.11', '192.168.80.22', '192.168.80.13'], 'n2 changed its IP');
    f.remove('node', undefined, 'n3');
    await waitIps(['192.168.80.11', '192.168.80.22'], 'n3 deleted');
    await until(() => !f.ls('n3'), 10000, 'switch n3 gone');
  });

  it('drops the addresses of Nodes deleted and changed while the watcher was down', async () => {
    await f.procs.at(-1)!.kill('SIGKILL');
    f.remove('node', undefined, 'n1');
    setStatusIPs('n2', ['192.168.80.32']);
    f.node('n4');
    setStatusIPs('n4', ['192.168.80.14']);
    f.startWatcher(args);
    await waitIps(['192.168.80.32', '192.168.80.14'], 'after restart');
  });
});
