// nics-to-bridge against a real OVS (netdev) in a node netns, with an "upstream" netns on the NIC's wire:
// addresses and routes (default route included) move to br<nic> and the node keeps reaching upstream; a second run
// is a no-op; an injected failure after each step rolls back to exactly the original state; --undo restores it.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopDaemons } from '../../../lab/daemon.js';
import { run, succeeds } from '../../../lab/exec.js';
import { addNetns, addVeth, delNetns, txOff } from '../../../lab/netns.js';
import { STEPS } from '../../../gateway/nics-to-bridge.js';
import { gateway, netSnapshot, startNodeOvs, vsctl, type NodeOvs } from './fixture.js';

const NODE = 'tgw-n2b-node';
const UP = 'tgw-n2b-up';

describe('gateway nics-to-bridge (real OVS, netdev)', function () {
  this.timeout(120_000);
  let dir: string;
  let ovs: NodeOvs;
  let args: string[];
  let original: Awaited<ReturnType<typeof netSnapshot>>;

  const snap = (): ReturnType<typeof netSnapshot> => netSnapshot(NODE, ['eth0', 'lo']);
  const reachesUpstream = (): Promise<boolean> => succeeds('ip', ['netns', 'exec', NODE, 'ping', '-c1', '-W1', '192.168.50.1']);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tgw-n2b-'));
    await delNetns(NODE);
    await delNetns(UP);
    await addNetns(NODE);
    await addNetns(UP);
    await addVeth({ netns: NODE, name: 'eth0' }, { netns: UP, name: 'eth0' });
    await txOff(UP, 'eth0');
    await run('ip', ['-n', UP, 'addr', 'add', '192.168.50.1/24', 'dev', 'eth0']);
    // The node's configuration as an operator or DHCP would leave it: primary + secondary + a labelled address,
    // a default route with metric and source, a static route, a route in another table.
    const ipn = (a: string[]): Promise<string> => run('ip', ['-n', NODE, ...a]);
    await ipn(['addr', 'add', '192.168.50.2/24', 'dev', 'eth0']);
    await ipn(['addr', 'add', '192.168.50.9/24', 'dev', 'eth0']);
    await ipn(['addr', 'add', '192.168.50.10/32', 'dev', 'eth0', 'label', 'eth0:vip']);
    await ipn(['route', 'add', 'default', 'via', '192.168.50.1', 'dev', 'eth0', 'metric', '100', 'src', '192.168.50.2', 'proto', 'static']);
    await ipn(['route', 'add', '10.20.0.0/16', 'via', '192.168.50.1', 'dev', 'eth0', 'metric', '50']);
    await ipn(['route', 'add', '10.30.0.0/16', 'via', '192.168.50.1', 'dev', 'eth0', 'table', '100']);
    ovs = await startNodeOvs(NODE, join(dir, 'ovs'));
    args = ['--ovs-db', ovs.db, '--ovs-rundir', ovs.dir, '--state-dir', join(dir, 'state')];
    original = await snap();
    assert.ok(await reachesUpstream(), 'fixture: node reaches upstream before bridging');
  });

  after(async () => {
    await stopDaemons(join(dir, 'ovs'));
    await delNetns(NODE);
    await delNetns(UP);
    rmSync(dir, { recursive: true, force: true });
  });

  for (const step of STEPS) {
    it(`rolls back to exactly the original state when failing after ${step}`, async () => {
      const r = await gateway(NODE, ['nics-to-bridge', 'eth0', ...args], { TESSERA_GATEWAY_FAIL_AFTER: step });
      assert.notEqual(r.code, 0, `expected failure, got: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`injected failure after step ${step}`));
      assert.deepEqual(await snap(), original);
      assert.equal((await vsctl(ovs, ['list-br'])).trim(), '', 'bridge removed');
      assert.ok(!existsSync(join(dir, 'state/nics-to-bridge/eth0.json')), 'plan removed after rollback');
      assert.ok(await reachesUpstream());
    });
  }

  it('moves addresses and routes (default included) to breth0 and keeps the node reachable', async () => {
    const r = await gateway(NODE, ['nics-to-bridge', 'eth0', ...args]);
    assert.equal(r.code, 0, r.stderr);
    const s = await netSnapshot(NODE, ['eth0', 'breth0']);
    assert.deepEqual(s.addrs.eth0, [], 'eth0 keeps no address');
    const moved = (s.addrs.breth0 ?? []).map((a) => `${String((a as { local: string }).local)}/${String((a as { prefixlen: number }).prefixlen)} ${String((a as { label?: string }).label ?? '')}`);
    assert.deepEqual(moved.sort(), ['192.168.50.10/32 breth0:vip', '192.168.50.2/24 breth0', '192.168.50.9/24 breth0']);
    const routes = s.routes.map((x) => JSON.parse(x) as { dst: string; dev?: string; gateway?: string; metric?: number; table?: string; prefsrc?: string; protocol?: string });
    const def = routes.find((x) => x.dst === 'default' && x.table === undefined);
    assert.deepEqual([def?.dev, def?.gateway, def?.metric, def?.prefsrc, def?.protocol], ['breth0', '192.168.50.1', 100, '192.168.50.2', 'static']);
    assert.equal(routes.find((x) => x.dst === '10.20.0.0/16')?.dev, 'breth0');
    assert.equal(routes.find((x) => x.dst === '10.30.0.0/16')?.table, '100');
    assert.equal(routes.find((x) => x.dst === '10.30.0.0/16')?.dev, 'breth0');
    assert.ok(!routes.some((x) => x.dev === 'eth0' && x.dst !== 'fe80::/64' && x.dst !== 'ff00::/8'), 'no route left on eth0');
    assert.deepEqual((await vsctl(ovs, ['list-ports', 'breth0'])).trim().split('\n'), ['eth0']);
    assert.equal((await vsctl(ovs, ['get', 'Bridge', 'breth0', 'datapath_type'])).trim(), 'netdev');
    assert.equal(await run('ip', ['netns', 'exec', NODE, 'sysctl', '-n', 'net.ipv4.conf.eth0.rp_filter']), '1', 'strict rp_filter on the NIC');
    assert.ok(await reachesUpstream(), 'node reaches upstream through breth0');
    // TCP too: the node's kernel TCP crosses the netdev bridge, which needs tx offload off on eth0.
    const server = run('ip', ['netns', 'exec', UP, 'timeout', '10', 'nc', '-d', '-l', '-p', '7001'], { timeoutMs: 15_000 });
    await new Promise((r) => setTimeout(r, 300));
    await run('ip', ['netns', 'exec', NODE, 'timeout', '5', 'nc', '-q', '1', '192.168.50.1', '7001'], { input: 'hello-tcp\n' });
    assert.equal(await server, 'hello-tcp');
  });

  it('is a no-op when run again', async () => {
    const s1 = await netSnapshot(NODE, ['eth0', 'breth0']);
    const r = await gateway(NODE, ['nics-to-bridge', 'eth0', ...args]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /already bridged/);
    assert.deepEqual(await netSnapshot(NODE, ['eth0', 'breth0']), s1);
  });

  it('--undo restores the NIC exactly and removes the bridge', async () => {
    const r = await gateway(NODE, ['nics-to-bridge', 'eth0', '--undo', ...args]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await snap(), original);
    assert.equal((await vsctl(ovs, ['list-br'])).trim(), '');
    assert.match(await run('ip', ['netns', 'exec', NODE, 'ethtool', '-k', 'eth0']), /^tx-checksumming: on/m, 'tx offload restored');
    assert.equal(await run('ip', ['netns', 'exec', NODE, 'sysctl', '-n', 'net.ipv4.conf.eth0.rp_filter']), '0', 'rp_filter restored');
    assert.ok(await reachesUpstream());
  });

  it('refuses a NIC that does not exist, naming it', async () => {
    const r = await gateway(NODE, ['nics-to-bridge', 'nosuch0', ...args]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /NIC nosuch0 not found/);
  });
});
