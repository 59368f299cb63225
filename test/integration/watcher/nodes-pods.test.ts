// tessera-watcher against a real NB and the API test double: master-init, nodes → switches, pods → LSPs.
import assert from 'node:assert/strict';
import { WatcherFixture, until, sleep, rt } from './fixture.js';
import { OWNER_KEY, macFromIPv4 } from '../../../lib/ovn/names.js';

describe('watcher: master-init, nodes and pods (real NB)', function () {
  this.timeout(60000);
  const f = new WatcherFixture();
  before(async () => {
    await f.start();
  });
  after(async () => {
    await f.stop();
  });

  it('master-init creates the cluster router and join link, and is idempotent', async () => {
    const r1 = await f.masterInit();
    assert.equal(r1.code, 0, r1.out);
    const lr = await until(() => f.nb.cache.lookup('Logical_Router', 'name', 'ovn_cluster_router'), 5000, 'cluster router');
    assert.equal(lr.external_ids[OWNER_KEY], 'tessera-watcher');
    const join = f.ls('join');
    assert.ok(join);
    assert.equal(join.other_config.subnet, '100.64.0.0/16');
    const rtoj = f.nb.cache.lookup('Logical_Router_Port', 'name', 'rtoj-ovn_cluster_router');
    assert.deepEqual(rtoj?.networks, ['100.64.0.1/16']);
    assert.ok(lr.ports.includes(rtoj!._uuid));
    const jtor = f.lsp('jtor-ovn_cluster_router');
    assert.equal(jtor?.type, 'router');
    assert.ok(join.ports.includes(jtor!._uuid));
    const counts = () => ['Logical_Router', 'Logical_Router_Port', 'Logical_Switch', 'Logical_Switch_Port'].map((t) => f.nb.cache.size(t as never));
    const before = counts();
    const r2 = await f.masterInit();
    assert.equal(r2.code, 0, r2.out);
    assert.match(r2.out, /already in place/);
    assert.deepEqual(counts(), before);
  });

  it('refuses a bad config with one line naming the flag, exit 2', async () => {
    const r = await f.masterInit(['--service-cidr', '10.244.0.0/20']);
    assert.equal(r.code, 2);
    assert.equal(r.out.trim(), 'tessera-watcher: --service-cidr 10.244.0.0/20 overlaps --cluster-cidr 10.244.0.0/16');
  });

  it('gives each node a subnet, annotation and switch linked to the cluster router', async () => {
    f.node('n1');
    f.node('n2');
    f.startWatcher();
    const subnets = await until(() => {
      const s = ['n1', 'n2'].map((n) => f.get('node', undefined, n)?.metadata.annotations?.['tessera.io/node-subnet']);
      return s.every(Boolean) && s;
    }, 20000, 'node subnet annotations');
    assert.notEqual(subnets[0], subnets[1]);
    for (const [i, n] of ['n1', 'n2'].entries()) {
      const ls = await until(() => f.ls(n), 5000, `switch ${n}`);
      assert.equal(ls.other_config.subnet, subnets[i]);
      const gw = subnets[i]!.replace(/0\/24$/, '1');
      assert.equal(ls.other_config.exclude_ips, `${gw}..${subnets[i]!.replace(/0\/24$/, '2')}`);
      const rtos = f.nb.cache.lookup('Logical_Router_Port', 'name', `rtos-${n}`);
      assert.deepEqual(rtos?.networks, [`${gw}/24`]);
      assert.equal(rtos?.mac, macFromIPv4(gw));
      const stor = f.lsp(`stor-${n}`);
      assert.equal(stor?.options['router-port'], `rtos-${n}`);
      assert.ok(ls.ports.includes(stor!._uuid));
      const grp = f.nb.cache.lookup('Load_Balancer_Group', 'name', 'tessera_cluster_lbs');
      assert.ok(grp && ls.load_balancer_group.includes(grp._uuid));
    }
    const mgmt = f.nb.cache.lookup('Address_Set', 'name', 'tessera_node_mgmt');
    assert.deepEqual([...(mgmt?.addresses ?? [])].sort(), subnets.map((s) => s!.replace(/0\/24$/, '2')).sort());
  });

  it('pods get an LSP (addresses, port_security, external_ids) and the pod-networks annotation', async () => {
    f.pod('default', 'a', 'n1');
    const net = await until(() => f.podNetwork('default', 'a'), 10000, 'annotation of default/a');
    const subnet = f.get('node', undefined, 'n1')!.metadata.annotations!['tessera.io/node-subnet']!;
    const base = subnet.replace(/0\/24$/, '');
    assert.deepEqual(net.ip_addresses, [`${base}3/24`]);
    assert.deepEqual(net.gateway_ips, [`${base}1`]);
    assert.equal(net.mac_address, macFromIPv4(`${base}3`));
    assert.equal(net.logical_switch, 'n1');
    assert.deepEqual(net.routes, []);
    const lsp = f.lsp('default_a');
    assert.ok(lsp);
    assert.deepEqual(lsp.addresses, [`${net.mac_address} ${base}3`]);
    assert.deepEqual(lsp.port_security, [`${net.mac_address} ${base}3`]);
    assert.equal(lsp.external_ids.namespace, 'default');
    assert.equal(lsp.external_ids.pod, 'a');
    assert.equal(lsp.external_ids[OWNER_KEY], 'tessera-watcher');
    assert.ok(f.ls('n1')!.ports.includes(lsp._uuid));
  });

  it('restores a pod-networks annotation someone else overwrote (its own write coming back is not the same)', async () => {
    f.pod('default', 'tampered', 'n1');
    const want = await until(() => f.get('pod', 'default', 'tampered')?.metadata.annotations?.['tessera.io/pod-networks'], 10000, 'annotation of default/tampered');
    f.patch('pod', 'default', 'tampered', { metadata: { annotations: { 'tessera.io/pod-networks': '{"default":{"ip_addresses":["10.99.0.9/24"]}}' } } });
    await until(() => f.get('pod', 'default', 'tampered')?.metadata.annotations?.['tessera.io/pod-networks'] === want, 10000, 'the annotation restored');
  });

  it('skips host-network pods and waits for unscheduled pods', async () => {
    f.pod('default', 'host', 'n1', { hostNetwork: true });
    f.pod('default', 'later', undefined);
    await sleep(1000);
    assert.equal(f.lsp('default_host'), undefined);
    assert.equal(f.podNetwork('default', 'host'), undefined);
    assert.equal(f.lsp('default_later'), undefined);
    f.store.bind(rt.pod, 'default', 'later', 'n2');
    const net = await until(() => f.podNetwork('default', 'later'), 10000, 'annotation once scheduled');
    assert.equal(net.logical_switch, 'n2');
  });

  it('honours Kube-OVN ip/mac requests and refuses a conflicting one with an Event', async () => {
    const base = f.get('node', undefined, 'n1')!.metadata.annotations!['tessera.io/node-subnet']!.replace(/0\/24$/, '');
    f.pod('default', 'fixed', 'n1', { annotations: { 'ovn.kubernetes.io/ip_address': `${base}100`, 'ovn.kubernetes.io/mac_address': '02:00:00:00:00:64' } });
    const net = await until(() => f.podNetwork('default', 'fixed'), 10000, 'annotation of fixed');
    assert.deepEqual(net.ip_addresses, [`${base}100/24`]);
    assert.equal(net.mac_address, '02:00:00:00:00:64');
    f.pod('default', 'clash', 'n1', { annotations: { 'ovn.kubernetes.io/ip_address': `${base}100` } });
    const ev = await until(() => f.list('event', 'default').find((e) => (e.involvedObject as { name: string }).name === 'clash'), 10000, 'an Event on default/clash');
    assert.equal(ev.type, 'Warning');
    assert.equal(ev.reason, 'AddressRequestRefused');
    assert.match(String(ev.message), new RegExp(`${base.replace(/\./g, '\\.')}100 .*already allocated to default/fixed`));
    assert.equal(f.lsp('default_clash'), undefined);
    assert.equal(f.podNetwork('default', 'clash'), undefined);
    assert.equal(f.lsp('default_fixed')!.addresses[0], `02:00:00:00:00:64 ${base}100`);
  });

  it('honours a logical_switch request for a Tessera switch and refuses an unknown one', async () => {
    f.pod('default', 'ls-req', 'n1', { annotations: { 'ovn.kubernetes.io/logical_switch': 'n2' } });
    const net = await until(() => f.podNetwork('default', 'ls-req'), 10000, 'annotation of ls-req');
    assert.equal(net.logical_switch, 'n2');
    const n2 = f.get('node', undefined, 'n2')!.metadata.annotations!['tessera.io/node-subnet']!;
    assert.ok(net.ip_addresses[0].startsWith(n2.replace(/0\/24$/, '')), `${net.ip_addresses[0]} in ${n2}`);
    assert.ok(f.ls('n2')!.ports.includes(f.lsp('default_ls-req')!._uuid));
    f.pod('default', 'ls-bad', 'n1', { annotations: { 'ovn.kubernetes.io/logical_switch': 'nope' } });
    const ev = await until(() => f.list('event', 'default').find((e) => (e.involvedObject as { name: string }).name === 'ls-bad'), 10000, 'an Event on default/ls-bad');
    assert.match(String(ev.message), /ovn.kubernetes.io\/logical_switch="nope" is not a logical switch Tessera manages/);
    assert.equal(f.lsp('default_ls-bad'), undefined);
  });
});
