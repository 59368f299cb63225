// lib/netdev against the real kernel: everything happens in tag- netns created here; the "node" side sockets are
// opened inside a node netns, so nothing is created in the root netns (asserted at the end).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { inspectPod, loadLibc, NetdevError, NodeNetdev, withNetns } from '../../../lib/netdev/index.js';

const id = randomBytes(2).toString('hex');
const nodeNs = `tag-${id}-nd`;
const podNs = (n: number): string => `tag-${id}-p${n}`;
const path = (ns: string): string => `/var/run/netns/${ns}`;
const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
const ethtool = (ns: string, dev: string): string => execFileSync('ip', ['netns', 'exec', ns, 'ethtool', '-k', dev], { encoding: 'utf8', timeout: 10_000 });

describe('lib/netdev pod links (real kernel, tag- netns)', function () {
  this.timeout(30_000);
  let node: NodeNetdev;
  const rootLinksBefore = ip('-o', 'link', 'show');

  before(async () => {
    await loadLibc();
    for (const ns of [nodeNs, podNs(1), podNs(2)]) ip('netns', 'add', ns);
    node = withNetns(path(nodeNs), () => new NodeNetdev());
  });
  after(() => {
    node?.close();
    for (const ns of ip('netns', 'list').split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(`tag-${id}-`))) ip('netns', 'del', ns);
  });

  const spec = (n: number, over: object = {}) => ({
    netnsPath: path(podNs(n)), hostName: `vethtag${id}${n}`, ifname: 'eth0', mac: `0a:58:0a:f4:01:0${n}`, mtu: 1400,
    addresses: [`10.244.1.${n}/24`], routes: [{ dst: '0.0.0.0/0', gw: '10.244.1.254' }, { dst: '10.96.0.0/16', gw: '10.244.1.254' }],
    txChecksumOff: true, ...over,
  });

  it('creates the veth with its peer named, addressed and routed inside the pod netns, tx checksum off on both ends', () => {
    const r = node.setupPod(spec(1));
    assert.match(r.hostMac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    const pod = ip('-n', podNs(1), '-o', 'addr', 'show', 'dev', 'eth0');
    assert.match(pod, /inet 10\.244\.1\.1\/24/);
    assert.match(ip('-n', podNs(1), 'link', 'show', 'eth0'), /mtu 1400 .*state UP[\s\S]*link\/ether 0a:58:0a:f4:01:01/);
    assert.match(ip('-n', podNs(1), 'route'), /default via 10\.244\.1\.254 dev eth0/);
    assert.match(ip('-n', nodeNs, 'link', 'show', `vethtag${id}1`), /mtu 1400 .*UP/);
    assert.match(ethtool(podNs(1), 'eth0'), /^tx-checksumming: off/m);
    assert.match(ethtool(nodeNs, `vethtag${id}1`), /^tx-checksumming: off/m);
    const st = inspectPod(path(podNs(1)), 'eth0');
    assert.equal(st.link?.mac, '0a:58:0a:f4:01:01');
    assert.ok(st.addresses.includes('10.244.1.1/24'));
    assert.deepEqual(st.routes.filter((x) => x.gw).map((x) => `${x.dst} ${x.gw}`).sort(), ['0.0.0.0/0 10.244.1.254', '10.96.0.0/16 10.244.1.254']);
  });

  it('fails with the errno name and what it was doing, and leaves no veth behind', () => {
    assert.throws(() => node.setupPod(spec(2, { netnsPath: `/var/run/netns/tag-${id}-missing` })), (e: unknown) =>
      e instanceof NetdevError && /opening netns \/var\/run\/netns\/tag-[0-9a-f]+-missing: ENOENT/.test(e.message));
    // A gateway that is not on-link: the kernel refuses the route after the veth exists; the veth must go again.
    assert.throws(() => node.setupPod(spec(2, { routes: [{ dst: '0.0.0.0/0', gw: '192.168.77.1' }] })), (e: unknown) =>
      e instanceof NetdevError && /adding route 0\.0\.0\.0\/0 via 192\.168\.77\.1 dev eth0: ENETUNREACH/.test(e.message));
    assert.equal(node.hostLink(`vethtag${id}2`), undefined);
    assert.doesNotMatch(ip('-n', podNs(2), 'link'), /eth0/);
  });

  it('refuses a pod interface name that already exists in the pod netns (EEXIST), without touching it', () => {
    ip('-n', podNs(2), 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'tagq0');
    assert.throws(() => node.setupPod(spec(2)), (e: unknown) => e instanceof NetdevError && /creating veth .* EEXIST/.test(e.message));
    assert.match(ip('-n', podNs(2), 'link', 'show', 'eth0'), /eth0@tagq0/);
    assert.equal(node.hostLink(`vethtag${id}2`), undefined);
  });

  it('deletes the host veth (the peer goes with it) and reports an already-gone veth as false', () => {
    assert.equal(node.deleteHostVeth(`vethtag${id}1`), true);
    assert.equal(node.deleteHostVeth(`vethtag${id}1`), false);
    assert.doesNotMatch(ip('-n', podNs(1), 'link'), /eth0/);
  });

  it('created nothing in the root netns', () => {
    const after = ip('-o', 'link', 'show');
    assert.equal(after.includes(`vethtag${id}`), false);
    assert.equal(after.split('\n').length, rootLinksBefore.split('\n').length);
  });
});
