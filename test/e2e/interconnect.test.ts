// OVN-IC interconnection end to end: two AZs (each NB/SB/northd, API test server, interconnect controller with its
// managed ovn-ic, one gateway node with pods) and the IC databases, driven only through the documented ConfigMap
// (the Kube-OVN docs' YAML, applied as is). The phases share one fixture and run in order.
// Set TIC_KEEP=1 to leave the fixture running after the suite (teardown: the next run, or cleanupTwoAz()).
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadYaml } from '@kubernetes/client-node';
import { startTwoAz, type TwoAz, type Az } from '../integration/interconnect/fixture/two-az.js';
import {
  IC_CM, applyConfigMap, canonical, deleteConfigMap, events, ping, routes, seedConfigMap, seedYaml, status, tcp, waitEvent, waitState,
  type ConfigMapObj,
} from '../integration/interconnect/fixture/helpers.js';
import { icSbctl, killMember, raftLeader } from '../../lab/icdb.js';
import { scriptNodeSwitch } from '../../lab/nb-script.js';
import { run } from '../../lab/exec.js';
import { waitFor } from '../../lab/wait.js';
import { alive, readPid } from '../../lab/daemon.js';

const ROUTER = 'ovn_cluster_router';

async function learned(az: Az, prefix: string): Promise<boolean> {
  return (await routes(az)).some((r) => r.learned && r.prefix === prefix);
}
async function anyLearned(az: Az): Promise<string[]> {
  return (await routes(az)).filter((r) => r.learned).map((r) => r.prefix);
}
async function icsbRoutes(f: TwoAz): Promise<string[]> {
  const out = await icSbctl(f.icdb, ['--bare', '--columns=ip_prefix', 'list', 'Route']);
  return out.split('\n').filter((l) => l.trim()).map((l) => canonical(l.trim()));
}
async function nbGlobal(az: Az): Promise<{ name: string; options: string; ext: string }> {
  const [name, options, ext] = await Promise.all(['name', 'options', 'external_ids'].map((c) => az.nbctl(['get', 'NB_Global', '.', c])));
  return { name, options, ext };
}
const timed = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
  const t0 = Date.now();
  const r = await fn();
  console.log(`      ${what}: ${Date.now() - t0} ms`);
  return r;
};

describe('interconnect e2e (OVN-IC, two AZs)', function () {
  this.timeout(120_000);
  let f: TwoAz;
  let az1: Az;
  let az2: Az;

  before(async function () {
    this.timeout(180_000);
    f = await timed('two AZs + IC DB up', () => startTwoAz({ root: join(tmpdir(), 'tessera-tic') }));
    [az1, az2] = f.azs;
  });
  after(async function () {
    this.timeout(60_000);
    if (process.env.TIC_KEEP === '1') await f?.detach(); // leave it running, but let mocha exit
    else await f?.stop();
  });

  it('auto-route: the seed ConfigMap connects both AZs through ts; pods reach each other by pod IP (ping + TCP)', async () => {
    await applyConfigMap(az1, seedConfigMap('seed-auto-route.yaml', 'az1'));
    await applyConfigMap(az2, seedConfigMap('seed-auto-route.yaml', 'az2'));
    const [s1, s2] = await timed('ConfigMaps applied -> both AZs connected (ts created, ports bound in IC-SB)', () => Promise.all([waitState(az1, 'connected', 60_000, 'remote.az2'), waitState(az2, 'connected', 60_000, 'remote.az1')]));
    // Each AZ sees the other's ts port, as `ovn-ic-sbctl show` does in the docs.
    assert.equal(s1['remote.az2'], s2['local-ts-port'].split(' ')[2].split('/')[0]);
    assert.equal(s2['remote.az1'], s1['local-ts-port'].split(' ')[2].split('/')[0]);
    assert.notEqual(s1['remote.az2'], s2['remote.az1'], 'the two AZs got distinct ts addresses');
    const show = await icSbctl(f.icdb, ['show']);
    for (const want of ['availability-zone az1', 'availability-zone az2', 'hostname: az1-gw', 'hostname: az2-gw', 'port ts-az1', 'port ts-az2']) assert.ok(show.includes(want), `ovn-ic-sbctl show lacks "${want}":\n${show}`);
    assert.equal((await nbGlobal(az1)).name, 'az1');
    assert.match((await nbGlobal(az1)).options, /ic-route-adv="?true"?.*ic-route-learn="?true"?/);
    // HA gateway chassis of the ts router port: the gw-node, priority 100.
    assert.match(await az1.nbctl(['lrp-get-gateway-chassis', 'az1-ts']), /az1-ts-az1-gw\s+100/);

    await timed('routes learned both ways', () => Promise.all([
      waitFor('az1 to learn 10.17.0.0/24', () => learned(az1, '10.17.0.0/24'), 30_000),
      waitFor('az2 to learn 10.16.0.0/24', () => learned(az2, '10.16.0.0/24'), 30_000),
    ]));
    assert.ok(await timed('first ping az1/pa -> az2/pb', () => ping(az1.podNetns.pa, '10.17.0.10', 2, 10)), 'ping az1/pa -> az2/pb 10.17.0.10');
    assert.ok(await ping(az2.podNetns.pb, '10.16.0.10'), 'ping az2/pb -> az1/pa 10.16.0.10');
    const out = await tcp(az1.podNetns.pa, '10.17.0.10');
    assert.match(out, /^hello from default\/pb$/m);
    assert.match(out, /received 50000 bytes/);
  });

  it('overlapping CIDRs (both AZs have join 100.64.0.0/16) are reported and neither advertised nor learned', async () => {
    const reports = [...(await events(az1, 'OvnIcRouteOverlap')), ...(await events(az2, 'OvnIcRouteOverlap'))];
    assert.ok(reports.length >= 1, 'an OvnIcRouteOverlap Event on ovn-ic-config in at least one AZ');
    assert.match(reports[0].message, /100\.64\.0\.0\/16.*overlaps 100\.64\.0\.0\/16 advertised by AZ az[12]/);
    assert.equal(reports[0].type, 'Warning');
    const [st1, st2] = [await status(az1), await status(az2)];
    assert.ok([st1.overlaps, st2.overlaps].some((o) => o.includes('100.64.0.0/16')), 'status ConfigMap lists the overlap');
    await waitFor('no AZ to learn 100.64.0.0/16 and IC-SB to hold no 100.64 route from the reporting AZ', async () =>
      !(await learned(az1, '100.64.0.0/16')) && !(await learned(az2, '100.64.0.0/16')) && (await icsbRoutes(f)).filter((r) => r === '100.64.0.0/16').length <= 1, 15_000);
    // The rest is unaffected: the pod subnets are still exchanged.
    assert.ok(await learned(az1, '10.17.0.0/24'));
  });

  it('a Subnet with disableInterConnection: true is not advertised and not reachable', async () => {
    // Control: before the Subnet exists, its CIDR is advertised and its pod reachable from az1.
    await waitFor('az1 to learn 10.199.0.0/16', () => learned(az1, '10.199.0.0/16'), 30_000);
    assert.ok(await ping(az1.podNetns.pa, '10.199.0.10', 2, 10), 'control: 10.199.0.10 reachable while advertised');
    const subnet = loadYaml<ConfigMapObj>(seedYaml('seed-no-advertise-subnet.yaml'));
    await az2.kube.create('/apis/kubeovn.io/v1/subnets', subnet);
    await timed('Subnet created -> route withdrawn in az1', () => waitFor('az1 to drop 10.199.0.0/16', async () => !(await learned(az1, '10.199.0.0/16')), 30_000));
    assert.ok(!(await icsbRoutes(f)).includes('10.199.0.0/16'), 'IC-SB no longer carries 10.199.0.0/16');
    assert.match((await status(az2))['route-denylist'], /10\.199\.0\.0\/16/);
    assert.match((await nbGlobal(az2)).options, /ic-route-blacklist="[^"]*10\.199\.0\.0\/16/);
    assert.equal(await ping(az1.podNetns.pa, '10.199.0.10', 2, 3), false, '10.199.0.10 must not be reachable from az1');
    assert.ok(await ping(az1.podNetns.pa, '10.17.0.10'), 'other subnets still reachable');
  });

  it('a change to the applied ConfigMap is refused with an Event and the running config stays', async () => {
    await az1.kube.patch(IC_CM, { data: { 'gw-nodes': 'az1-gw,az1-gw2' } });
    const ev = await waitEvent(az1, 'OvnIcConfigChangeRefused');
    assert.equal(ev.type, 'Warning');
    assert.match(ev.message, /gw-nodes: "az1-gw" -> "az1-gw,az1-gw2"/);
    assert.match(ev.message, /kubectl -n kube-system delete cm ovn-ic-config/);
    await waitFor('status to carry the refusal', async () => ((await status(az1)).refused ?? '').includes('gw-nodes'), 10_000);
    assert.match(await az1.nbctl(['lrp-get-gateway-chassis', 'az1-ts']), /^az1-ts-az1-gw\s+100$/m);
    assert.ok(await ping(az1.podNetns.pa, '10.17.0.10'));
  });

  it('a controller killed with SIGKILL and restarted adopts the interconnection (same address, one ovn-ic, no duplicates)', async () => {
    const before = await status(az1);
    const oldIc = readPid(join(az1.dir, 'ovn-ic', 'ovn-ic.pid'));
    assert.ok(oldIc !== undefined && alive(oldIc), 'managed ovn-ic runs');
    await az1.killController();
    assert.ok(alive(oldIc!), 'the orphaned ovn-ic outlives its killed parent');
    await timed('restarted controller -> connected', async () => {
      await az1.startController();
      await waitFor('the orphaned ovn-ic to be reaped', () => !alive(oldIc!), 15_000);
      await waitState(az1, 'connected', 30_000, 'remote.az2');
    });
    const after = await status(az1);
    assert.equal(after['local-ts-port'], before['local-ts-port']);
    // The restarted controller may report "connected" from the state already in the DBs before its new ovn-ic
    // has written its pidfile.
    await waitFor('a fresh ovn-ic to run', () => {
      const p = readPid(join(az1.dir, 'ovn-ic', 'ovn-ic.pid'));
      return p !== undefined && p !== oldIc && alive(p);
    }, 10_000);
    assert.equal((await az1.nbctl(['--bare', '--columns=name', 'list', 'Gateway_Chassis'])).split('\n').filter((l) => l.trim()).length, 1, 'one Gateway_Chassis row');
    // The ConfigMap still differs from the applied config: the restarted controller refuses it again.
    assert.ok(((await status(az1)).refused ?? '').includes('gw-nodes') || (await waitFor('refusal after restart', async () => ((await status(az1)).refused ?? '').includes('gw-nodes'), 10_000)) >= 0);
    assert.ok(await ping(az1.podNetns.pa, '10.17.0.10'));
  });

  it('deleting the ConfigMap removes this AZ cleanly; the documented reset (ls-del ts) then re-enables in manual mode', async () => {
    await deleteConfigMap(az1);
    await timed('az1 ConfigMap deleted -> disabled', () => waitState(az1, 'disabled'));
    assert.equal(await az1.nbctl(['--if-exists', 'get', 'Logical_Router_Port', 'az1-ts', 'name']), '');
    assert.equal(await az1.nbctl(['--if-exists', 'get', 'Logical_Switch_Port', 'ts-az1', 'name']), '');
    assert.deepEqual(await anyLearned(az1), [], 'no learned routes left in az1');
    const g = await nbGlobal(az1);
    assert.doesNotMatch(g.options, /ic-route/);
    assert.doesNotMatch(g.ext, /tessera\.io\/ic-/);
    assert.equal(g.name, '""');
    assert.doesNotMatch(await icSbctl(f.icdb, ['show']), /az1/, 'az1 gone from IC-SB');
    await waitFor('az2 to forget az1 routes and port', async () =>
      !(await learned(az2, '10.16.0.0/24')) && !(await az2.nbctl(['show', 'ts'])).includes('ts-az1'), 15_000);
    assert.equal(await ping(az1.podNetns.pa, '10.17.0.10', 1, 2), false, 'no path once disconnected');
    const node = await az1.kube.get<ConfigMapObj>('/api/v1/nodes/az1-gw');
    assert.equal(node.metadata.labels?.['tessera.io/ic-gw'], undefined, 'gateway label removed');

    await deleteConfigMap(az2);
    await waitState(az2, 'disabled');
    // The documented manual reset, on both sides.
    await az1.nbctl(['ls-del', 'ts']);
    await az2.nbctl(['ls-del', 'ts']);

    // An invalid ConfigMap is reported (Event + status naming the key) and applies nothing.
    const bad = seedConfigMap('seed-manual-route.yaml', 'az1');
    bad.data = { ...bad.data, 'ic-nb-port': '66450' };
    await applyConfigMap(az1, bad);
    const inv = await waitState(az1, 'invalid', 15_000);
    assert.match(inv.message, /ic-nb-port: "66450" is not a TCP port/);
    assert.match((await waitEvent(az1, 'OvnIcConfigInvalid')).message, /ic-nb-port/);
    assert.equal((await nbGlobal(az1)).name, '""', 'nothing applied');
    await deleteConfigMap(az1);
    await waitState(az1, 'disabled', 15_000);

    await applyConfigMap(az1, seedConfigMap('seed-manual-route.yaml', 'az1'));
    await applyConfigMap(az2, seedConfigMap('seed-manual-route.yaml', 'az2'));
    const [s1, s2] = await timed('re-created (manual) -> connected', () => Promise.all([waitState(az1, 'connected', 60_000, 'remote.az2'), waitState(az2, 'connected', 60_000, 'remote.az1')]));
    assert.match((await nbGlobal(az1)).options, /ic-route-adv="?false"?.*ic-route-learn="?false"?/);
    assert.deepEqual(await anyLearned(az1), []);
    assert.equal(await ping(az1.podNetns.pa, '10.17.0.10', 1, 2), false, 'manual mode: nothing routed yet');
    // The doc reads the remote addresses from `nbctl show`; the status ConfigMap carries the same.
    const remote2 = s1['remote.az2'];
    const remote1 = s2['remote.az1'];
    assert.ok((await az1.nbctl(['show', 'ts'])).includes(`${remote2}/24`), 'status matches the remote port in NB');
    await az1.nbctl(['lr-route-add', ROUTER, '10.17.0.0/24', remote2]);
    await az2.nbctl(['lr-route-add', ROUTER, '10.16.0.0/24', remote1]);
    assert.ok(await timed('manual routes -> first ping', () => ping(az1.podNetns.pa, '10.17.0.10', 2, 10)), 'manual routes: az1 -> az2');
    assert.match(await tcp(az2.podNetns.pb, '10.16.0.10'), /^hello from default\/pa$/m);
    assert.ok(!(await icsbRoutes(f)).length, 'manual mode advertises nothing');
    await az1.nbctl(['lr-route-del', ROUTER, '10.17.0.0/24']);
    await az2.nbctl(['lr-route-del', ROUTER, '10.16.0.0/24']);
  });

  it('a ConfigMap deleted and re-created (changed) while the controller was down is applied, not refused', async () => {
    await az2.stopController();
    await deleteConfigMap(az2);
    await applyConfigMap(az2, seedConfigMap('seed-auto-route.yaml', 'az2'));
    await timed('controller back -> re-created ConfigMap applied', async () => {
      await az2.startController();
      await waitFor('az2 to run the new config (auto-route on)', async () => /ic-route-adv="?true"?/.test((await nbGlobal(az2)).options), 30_000);
      await waitState(az2, 'connected', 30_000, 'remote.az1');
    });
    assert.equal((await status(az2)).refused, undefined, 'a re-created ConfigMap is not a change');
    assert.deepEqual(await events(az2, 'OvnIcConfigChangeRefused'), []);
  });

  it('HA IC DB: a 3-member Raft IC NB/SB keeps the interconnection working when a member is killed', async function () {
    this.timeout(180_000);
    await deleteConfigMap(az1);
    await deleteConfigMap(az2);
    await Promise.all([waitState(az1, 'disabled'), waitState(az2, 'disabled')]);
    await timed('3-member Raft IC DB up', () => f.restartIcDb('raft'));
    await az1.nbctl(['--if-exists', 'ls-del', 'ts']);
    await az2.nbctl(['--if-exists', 'ls-del', 'ts']);
    await applyConfigMap(az1, seedConfigMap('seed-raft.yaml', 'az1'));
    await applyConfigMap(az2, seedConfigMap('seed-raft.yaml', 'az2'));
    await timed('Raft: connected', () => Promise.all([waitState(az1, 'connected', 60_000, 'remote.az2'), waitState(az2, 'connected', 60_000, 'remote.az1')]));
    await waitFor('az1 to learn 10.17.0.0/24 via Raft IC DB', () => learned(az1, '10.17.0.0/24'), 30_000);
    assert.ok(await ping(az1.podNetns.pa, '10.17.0.10', 2, 10));

    const leader = await raftLeader(f.icdb, 'sb');
    assert.ok(leader, 'an IC-SB leader');
    await killMember(leader, 'sb');
    await killMember(leader, 'nb').catch(() => undefined);
    console.log(`      killed IC DB member ${leader.ip} (IC-SB leader, and its IC-NB)`);
    // New state must still flow through the surviving majority: a new subnet in az2 is learned by az1.
    await scriptNodeSwitch(az2.central, 'az2-extra', '10.17.1.0/24', '10.17.1.1');
    await timed('after the kill: new az2 subnet learned by az1', () => waitFor('az1 to learn 10.17.1.0/24 after the kill', () => learned(az1, '10.17.1.0/24'), 60_000));
    assert.ok(await ping(az1.podNetns.pa, '10.17.0.10'), 'data path unaffected');
    const [s1, s2] = [await status(az1), await status(az2)];
    assert.equal(s1.state, 'connected');
    assert.equal(s2.state, 'connected');
    // The controller's own IC DB clients followed the leader too: a change it must write still lands.
    await deleteConfigMap(az1);
    await waitState(az1, 'disabled', 30_000);
    assert.doesNotMatch(await run('ovn-ic-sbctl', [`--db=${f.icdb.sbSockets.filter((s) => !s.includes(leader.dir)).join(',')}`, '--timeout=20', 'show']), /availability-zone az1/);
  });
});
