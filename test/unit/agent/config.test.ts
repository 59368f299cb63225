import assert from 'node:assert/strict';
import { ConfigError } from '../../../lib/cli.js';
import { parseConfig } from '../../../agent/config.js';
import { managementDevice, nodeNet } from '../../../agent/node-init.js';

const base = ['--node-name', 'node1', '--kube-api', 'http://10.0.0.1:6443', '--ovs-db', 'unix:/run/ovs/db.sock'];

describe('agent config', () => {
  it('parses the documented flags with their defaults', () => {
    const c = parseConfig(base);
    assert.equal(c.nodeName, 'node1');
    assert.equal(c.ovsDb, 'unix:/run/ovs/db.sock');
    assert.equal(c.tls, undefined);
    assert.equal(c.cniSocket, '/var/run/tessera/cni.sock');
    assert.equal(c.mtu, 1400);
    assert.equal(c.clusterCidr, '10.244.0.0/16');
    assert.equal(c.serviceCidr, '10.96.0.0/16');
    assert.equal(c.healthListen, undefined);
    assert.equal(c.ovnRundir, '/var/run/ovn');
    assert.equal(c.patchFlowCheckMs, 60_000);
    assert.equal(parseConfig([...base, '--patch-flow-check', '0']).patchFlowCheckMs, 0);
    assert.deepEqual(parseConfig([...base, '--health-listen', '127.0.0.1:9476']).healthListen, { host: '127.0.0.1', port: 9476 });
  });

  const bad: [string[], RegExp][] = [
    [['--kube-api', 'http://x', '--ovs-db', 'unix:/x'], /--node-name is required/],
    // The agent has no Northbound access: the watcher writes every NB row, k8s-<node> included.
    [[...base, '--nb', 'tcp:10.0.0.1:6641'], /--nb/],
    [[...base, '--ovs-db', 'ssl:10.0.0.1:6640'], /--ovs-db: ssl:10\.0\.0\.1:6640 needs --ovsdb-private-key/],
    [[...base, '--node-name', 'Node_1'], /--node-name "Node_1" is not a valid Kubernetes node name/],
    [[...base, '--mtu', '100'], /--mtu "100" must be an integer between 576 and 9000/],
    [[...base, '--cluster-cidr', '10.244.0.0/33'], /--cluster-cidr "10.244.0.0\/33"/],
    [[...base, '--ovs-db', '/run/db.sock'], /--ovs-db "\/run\/db.sock" must be unix:PATH/],
    [[...base, '--health-listen', 'nowhere'], /--health-listen "nowhere" must be host:port/],
    [[...base, '--patch-flow-check', '1.5'], /--patch-flow-check "1.5" must be 0..86400 seconds/],
    [[...base, '--no-such-flag'], /no-such-flag/],
  ];
  for (const [argv, re] of bad) {
    it(`rejects ${argv.slice(-2).join(' ')} with a ConfigError naming it`, () => {
      assert.throws(() => parseConfig(argv), (e: unknown) => e instanceof ConfigError && re.test(e.message));
    });
  }
});

describe('agent node network', () => {
  it('derives gateway .1, management .2 and the management MAC from the node subnet', () => {
    assert.deepEqual(nodeNet('node1', '10.244.3.0/24'), {
      subnet: '10.244.3.0/24', gateway: '10.244.3.1', mgmtAddress: '10.244.3.2/24', mgmtMac: '0a:58:0a:f4:03:02', mgmtDevice: 'k8s-node1',
    });
  });
  it('keeps the management device name within IFNAMSIZ for long node names, deterministically', () => {
    const long = 'ip-10-0-12-34.eu-west-1.compute.internal';
    const a = managementDevice(long);
    assert.equal(a.length, 15);
    assert.match(a, /^k8s-[0-9a-f]{11}$/);
    assert.equal(managementDevice(long), a);
    assert.equal(managementDevice('worker-01'), 'k8s-worker-01');
  });
  it('rejects a non-IPv4 node subnet', () => {
    assert.throws(() => nodeNet('n', 'fd00::/64'), /only IPv4/);
  });
});
