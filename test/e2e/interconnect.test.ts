// OVN-IC interconnection end to end: two AZs of `make lab CLUSTERS=2`'s lab (each NB/SB/northd, API test server,
// the real tessera-watcher running the interconnect controller and its managed ovn-ic, two nodes with the real
// tessera-agent, pods via cnitool) and the IC databases, driven only through the documented ConfigMap (the Kube-OVN
// docs' YAML, applied as is). The phases share one fixture and run in order. Pod IPs and node subnets come from
// the watcher's IPAM (az1 10.16.0.0/16, az2 10.17.0.0/16, /24 per node).
// Set TIC_KEEP=1 to leave the fixture running after the suite (teardown: the next run, or cleanupTwoAz()).
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { loadYaml } from '@kubernetes/client-node';
import { startTwoAz, type TwoAz, type Az } from '../integration/interconnect/fixture/two-az.js';
import {
  IC_CM, applyConfigMap, canonical, deleteConfigMap, events, ping, routes, seedConfigMap, seedYaml, settleTransit, status, tcp, waitEvent, waitState,
  type ConfigMapObj,
} from '../integration/interconnect/fixture/helpers.js';
import { icSbctl, killMember, raftLeader } from '../../lab/icdb.js';
import { NODE_SUBNET_ANNOTATION } from '../../lib/kube/annotations.js';
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
  // Node subnets (the watcher's) and pod IPs (its IPAM): az1-gw's, az2-gw's, and az2-node2's (pc's, the subnet the
  // no-advertise Subnet takes out of the exchange).
  let SUB1: string;
  let SUB2: string;
  let NOADV: string;
  let PA: string;
  let PB: string;
  let PC: string;
  const subnetOf = (az: Az, node: string): string => {
    const n = az.lab.file.nodes.find((x) => x.name === node);
    assert.ok(n, node);
    return canonical(n.subnet);
  };

  before(async function () {
    this.timeout(180_000);
    f = await timed('two AZs + IC DB up', () => startTwoAz());
    [az1, az2] = f.azs;
    [SUB1, SUB2, NOADV] = [subnetOf(az1, 'az1-gw'), subnetOf(az2, 'az2-gw'), subnetOf(az2, 'az2-node2')];
    [PA, PB, PC] = [az1.pods.pa!.ip, az2.pods.pb!.ip, az2.pods.pc!.ip];
    console.log(`      az1-gw ${SUB1} (pa ${PA}), az2-gw ${SUB2} (pb ${PB}), az2-node2 ${NOADV} (pc ${PC})`);
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
    await settleTransit(f.azs);
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
      waitFor(`az1 to learn ${SUB2}`, () => learned(az1, SUB2), 30_000),
      waitFor(`az2 to learn ${SUB1}`, () => learned(az2, SUB1), 30_000),
    ]));
    assert.ok(await timed('first ping az1/pa -> az2/pb', () => ping(az1.podNetns.pa, PB, 2, 10)), `ping az1/pa -> az2/pb ${PB}`);
    assert.ok(await ping(az2.podNetns.pb, PA), `ping az2/pb -> az1/pa ${PA}`);
    const out = await tcp(az1.podNetns.pa, PB);
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
    assert.ok(await learned(az1, SUB2));
  });

  it('a Subnet with disableInterConnection: true is not advertised and not reachable', async () => {
    // Control: before the Subnet exists, its CIDR is advertised and its pod reachable from az1.
    await waitFor(`az1 to learn ${NOADV}`, () => learned(az1, NOADV), 30_000);
    assert.ok(await ping(az1.podNetns.pa, PC, 2, 10), `control: pc ${PC} reachable while advertised`);
    // The docs' Subnet names 10.199.0.0/16, a switch of their own cluster; here the switch is az2-node2's, whose
    // subnet the watcher allocated: the document is applied with that cidrBlock, unchanged otherwise.
    const subnet = loadYaml<ConfigMapObj & { spec: { cidrBlock: string; disableInterConnection: boolean } }>(seedYaml('seed-no-advertise-subnet.yaml'));
    assert.equal(subnet.spec.disableInterConnection, true);
    subnet.spec.cidrBlock = NOADV;
    await az2.kube.create('/apis/kubeovn.io/v1/subnets', subnet);
    await timed('Subnet created -> route withdrawn in az1', () => waitFor(`az1 to drop ${NOADV}`, async () => !(await learned(az1, NOADV)), 30_000));
    assert.ok(!(await icsbRoutes(f)).includes(NOADV), `IC-SB no longer carries ${NOADV}`);
    const noadv = NOADV.replace(/\./g, '\\.').replace('/', '\\/');
    assert.match((await status(az2))['route-denylist'], new RegExp(noadv));
    assert.match((await nbGlobal(az2)).options, new RegExp(`ic-route-blacklist="[^"]*${noadv}`));
    assert.equal(await ping(az1.podNetns.pa, PC, 2, 3), false, `pc ${PC} must not be reachable from az1`);
    assert.ok(await ping(az1.podNetns.pa, PB), 'other subnets still reachable');
  });

  it('a change to the applied ConfigMap is refused with an Event and the running config stays', async () => {
    await az1.kube.patch(IC_CM, { data: { 'gw-nodes': 'az1-gw,az1-gw2' } });
    const ev = await waitEvent(az1, 'OvnIcConfigChangeRefused');
    assert.equal(ev.type, 'Warning');
    assert.match(ev.message, /gw-nodes: "az1-gw" -> "az1-gw,az1-gw2"/);
    assert.match(ev.message, /kubectl -n kube-system delete cm ovn-ic-config/);
    await waitFor('status to carry the refusal', async () => ((await status(az1)).refused ?? '').includes('gw-nodes'), 10_000);
    assert.match(await az1.nbctl(['lrp-get-gateway-chassis', 'az1-ts']), /^az1-ts-az1-gw\s+100$/m);
    assert.ok(await ping(az1.podNetns.pa, PB));
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
    assert.ok(await ping(az1.podNetns.pa, PB));
  });

  it('the ts router port and its gateway chassis, deleted or edited by another writer, come back within 5 s; pods talk again', async () => {
    const port = `${(await az1.nbctl(['get', 'NB_Global', '.', 'name'])).trim().replace(/"/g, '')}-ts`;
    const ok = async () => (await az1.nbctl(['--bare', '--columns=gateway_chassis', 'find', 'Logical_Router_Port', `name=${port}`]).catch(() => '')).trim() !== '';
    assert.ok(await ok(), 'the ts port with its gateway chassis is in place');
    for (const [what, args] of [
      ['ts router port deleted', ['lrp-del', port]],
      ['its gateway chassis cleared', ['clear', 'Logical_Router_Port', port, 'gateway_chassis']],
    ] as const) {
      const t0 = Date.now();
      await az1.nbctl([...args]);
      await waitFor(`${what}: restored`, ok, 10_000, 50);
      const ms = Date.now() - t0;
      console.log(`      ${what}: restored in ${ms} ms`);
      assert.ok(ms < 5000, `${what}: restored in ${ms} ms, goal < 5000 ms`);
    }
    assert.ok(await waitFor('az1/pa -> az2/pb ping after the repair', () => ping(az1.podNetns.pa, PB), 30_000) >= 0);
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
      !(await learned(az2, SUB1)) && !(await az2.nbctl(['show', 'ts'])).includes('ts-az1'), 15_000);
    assert.equal(await ping(az1.podNetns.pa, PB, 1, 2), false, 'no path once disconnected');
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
    await settleTransit(f.azs);
    assert.match((await nbGlobal(az1)).options, /ic-route-adv="?false"?.*ic-route-learn="?false"?/);
    assert.deepEqual(await anyLearned(az1), []);
    assert.equal(await ping(az1.podNetns.pa, PB, 1, 2), false, 'manual mode: nothing routed yet');
    // The doc reads the remote addresses from `nbctl show`; the status ConfigMap carries the same.
    const remote2 = s1['remote.az2'];
    const remote1 = s2['remote.az1'];
    assert.ok((await az1.nbctl(['show', 'ts'])).includes(`${remote2}/24`), 'status matches the remote port in NB');
    await az1.nbctl(['lr-route-add', ROUTER, SUB2, remote2]);
    await az2.nbctl(['lr-route-add', ROUTER, SUB1, remote1]);
    assert.ok(await timed('manual routes -> first ping', () => ping(az1.podNetns.pa, PB, 2, 10)), 'manual routes: az1 -> az2');
    assert.match(await tcp(az2.podNetns.pb, PA), /^hello from default\/pa$/m);
    assert.ok(!(await icsbRoutes(f)).length, 'manual mode advertises nothing');
    await az1.nbctl(['lr-route-del', ROUTER, SUB2]);
    await az2.nbctl(['lr-route-del', ROUTER, SUB1]);
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
    await settleTransit(f.azs);
    await waitFor(`az1 to learn ${SUB2} via Raft IC DB`, () => learned(az1, SUB2), 30_000);
    assert.ok(await ping(az1.podNetns.pa, PB, 2, 10));

    const leader = await raftLeader(f.icdb, 'sb');
    assert.ok(leader, 'an IC-SB leader');
    await killMember(leader, 'sb');
    await killMember(leader, 'nb').catch(() => undefined);
    console.log(`      killed IC DB member ${leader.ip} (IC-SB leader, and its IC-NB)`);
    // New state must still flow through the surviving majority: a new node in az2 gets a subnet from the watcher,
    // which az1 learns.
    await az2.kube.create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'az2-extra' } });
    let extra = '';
    await waitFor('the watcher to give az2-extra a subnet', async () => {
      extra = (await az2.kube.get<ConfigMapObj>('/api/v1/nodes/az2-extra')).metadata.annotations?.[NODE_SUBNET_ANNOTATION] ?? '';
      return extra !== '';
    }, 15_000);
    await timed('after the kill: new az2 subnet learned by az1', () => waitFor(`az1 to learn ${extra} after the kill`, () => learned(az1, canonical(extra)), 60_000));
    assert.ok(await ping(az1.podNetns.pa, PB), 'data path unaffected');
    const [s1, s2] = [await status(az1), await status(az2)];
    assert.equal(s1.state, 'connected');
    assert.equal(s2.state, 'connected');
    // The controller's own IC DB clients followed the leader too: a change it must write still lands.
    await deleteConfigMap(az1);
    await waitState(az1, 'disabled', 30_000);
    assert.doesNotMatch(await run('ovn-ic-sbctl', [`--db=${f.icdb.sbSockets.filter((s) => !s.includes(leader.dir)).join(',')}`, '--timeout=20', 'show']), /availability-zone az1/);
  });
});
