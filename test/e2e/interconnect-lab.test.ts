// `make lab CLUSTERS=2` end to end (prefix tic-lab-): two lab clusters with the real tessera-watcher (running the
// interconnect controller and its ovn-ic because it has --sb) and real tessera-agents (mirroring the tessera.io/ic-gw
// label into OVS), interconnected through the IC DB by the Kube-OVN docs' seed ConfigMap. Checked independently of
// the lab's report: IC-SB contents, OVS/SB flags, learned routes, and ping/TCP between pod IPs of the two clusters.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { alive, readPid } from '../../lab/daemon.js';
import type { MultiClusterLabFile } from '../../lab/lab-file.js';
import { STATUS_CM, startMultiLab, type MultiLab } from '../../lab/multi-cluster.js';
import { teardownLab } from '../../lab/cluster.js';
import { waitFor } from '../../lab/wait.js';
import { icSbctl } from '../../lab/icdb.js';
import type { KubeObject } from '../../lab/kube.js';

const exec = promisify(execFile);
const PREFIX = 'tic-lab-';

async function inNs(netns: string, cmd: string, args: string[], input?: string): Promise<string> {
  const child = exec('ip', ['netns', 'exec', netns, cmd, ...args], { timeout: 15_000 });
  if (input !== undefined) child.child.stdin?.end(input);
  return (await child).stdout.trim();
}
const ping = (netns: string, ip: string): Promise<boolean> =>
  inNs(netns, 'ping', ['-n', '-q', '-c', '2', '-i', '0.2', '-w', '5', ip]).then(() => true, () => false);

describe('make lab CLUSTERS=2 (e2e, prefix tic-lab-): real watcher and agents, OVN-IC', function () {
  this.timeout(180_000);
  let m: MultiLab;
  let f: MultiClusterLabFile;
  type Pod = MultiClusterLabFile['pods'][number];
  const pod = (k: number, name: string): Pod => {
    const p = f.clusters[k]?.pods.find((x) => x.name === name);
    assert.ok(p, `cluster ${k + 1} pod ${name}`);
    return p;
  };
  const status = async (k: number): Promise<Record<string, string>> =>
    (await (m.clusters[k]?.kube as NonNullable<MultiLab['clusters'][number]['kube']>).get<KubeObject & { data?: Record<string, string> }>(STATUS_CM)).data ?? {};

  before(async () => {
    m = await startMultiLab({ prefix: PREFIX, clusters: 2, nodes: 2 });
    f = JSON.parse(readFileSync(m.labFilePath, 'utf8')) as MultiClusterLabFile;
  });
  after(async () => {
    await teardownLab({ prefix: PREFIX });
  });

  it('lab.json lists both clusters (first at top level) with non-overlapping cluster CIDRs, and the IC DB', () => {
    assert.deepEqual(f.clusters.map((c) => [c.name, c.clusterCidr]), [['az1', '10.16.0.0/16'], ['az2', '10.17.0.0/16']]);
    assert.equal(f.nb.unixSocket, f.clusters[0]?.nb.unixSocket);
    assert.deepEqual(f.pods, f.clusters[0]?.pods);
    for (const c of f.clusters) {
      assert.deepEqual(c.components, { apiserver: true, watcher: true, agent: true });
      for (const p of c.pods) assert.ok(p.ip.startsWith(c.clusterCidr.split('.0.0/')[0] as string), `${c.name} ${p.name} ${p.ip} in ${c.clusterCidr}`);
    }
    assert.deepEqual(f.interconnect.icNb, ['tcp:192.168.65.3:6645']);
  });

  it('IC-SB holds both AZs with their gateway nodes, flagged by the real agents from the ic-gw label', async () => {
    const show = await icSbctl({ members: [], clustered: false, nbSockets: f.interconnect.unixSockets.nb, sbSockets: f.interconnect.unixSockets.sb }, ['show']);
    for (const want of ['availability-zone az1', 'availability-zone az2', 'hostname: az1-gw', 'hostname: az2-gw']) assert.ok(show.includes(want), `IC-SB lacks "${want}":\n${show}`);
    assert.doesNotMatch(show, /node2/, 'non-gateway nodes are not IC gateways');
    for (const [k, c] of f.clusters.entries()) {
      const lab = m.clusters[k]!;
      const node = await lab.kube!.get<KubeObject>(`/api/v1/nodes/${c.name}-gw`);
      assert.equal(node.metadata.labels?.['tessera.io/ic-gw'], 'true', `${c.name}-gw labelled by the controller`);
      assert.equal(await lab.vsctl(`${c.name}-gw`, ['get', 'Open_vSwitch', '.', 'external_ids:ovn-is-interconn']), '"true"');
      assert.equal(await lab.vsctl(`${c.name}-node2`, ['--if-exists', 'get', 'Open_vSwitch', '.', 'external_ids:ovn-is-interconn']), '');
    }
  });

  it('each cluster learns the other\'s node subnets; the shared join CIDR is reported as an overlap, not exchanged', async () => {
    // ovn-ic copies router port networks as written ("10.17.0.1/24"): match the /24, whatever its host part.
    const routes = async (k: number): Promise<string> => (await m.clusters[k]!.nbctl(['--format=csv', '--data=bare', '--no-headings',
      '--columns=ip_prefix,external_ids', 'list', 'Logical_Router_Static_Route'])).split('\n').filter((l) => l.includes('ic-learned-route')).join('\n');
    await waitFor('az1 to learn both az2 node subnets', async () => /10\.17\.0\.\d+\/24/.test(await routes(0)) && /10\.17\.1\.\d+\/24/.test(await routes(0)), 30_000);
    await waitFor('az2 to learn both az1 node subnets', async () => /10\.16\.0\.\d+\/24/.test(await routes(1)) && /10\.16\.1\.\d+\/24/.test(await routes(1)), 30_000);
    assert.doesNotMatch(await routes(0), /100\.64/);
    assert.ok([(await status(0)).overlaps, (await status(1)).overlaps].some((o) => (o ?? '').includes('100.64.0.0/16')));
  });

  it('pods in cluster 1 reach pods in cluster 2 by pod IP (ping, TCP both ways), from gateway and non-gateway nodes', async () => {
    for (const [from, to] of [[pod(0, 'client'), pod(1, 'web-2')], [pod(0, 'web-2'), pod(1, 'web-1')], [pod(1, 'web-2'), pod(0, 'web-2')]] as const) {
      assert.ok(await ping(from.netns, to.ip), `ping ${from.netns} -> ${to.ip}`);
      const out = await inNs(from.netns, 'nc', ['-N', '-w', '5', to.ip, '8080'], 'x'.repeat(30_000));
      assert.match(out, new RegExp(`^hello from default/${to.name}$`, 'm'));
      assert.match(out, /received 30000 bytes/);
    }
  });

  it('a pod added to cluster 2 later (cnitool -> agent) is reachable from cluster 1', async () => {
    const added = await m.clusters[1]!.addPod({ namespace: 'default', name: 'late', node: 'az2-node2' });
    assert.ok(added.ip.startsWith('10.17.1.'), added.ip);
    await waitFor(`az1 client to reach az2 late ${added.ip}`, () => ping(pod(0, 'client').netns, added.ip), 20_000);
  });

  it('the real watcher killed with SIGKILL and restarted adopts the interconnection (same ts port, orphan ovn-ic reaped)', async () => {
    const lab = m.clusters[0]!;
    const before = await status(0);
    const icPidfile = join(lab.central.dir, 'ovn-ic', 'ovn-ic.pid');
    const oldIc = readPid(icPidfile);
    assert.ok(oldIc !== undefined && alive(oldIc), 'the watcher runs a managed ovn-ic');
    await lab.restartWatcher('SIGKILL');
    await waitFor('the orphaned ovn-ic to be reaped and a fresh one to run', () => {
      const p = readPid(icPidfile);
      return !alive(oldIc) && p !== undefined && p !== oldIc && alive(p);
    }, 30_000);
    await waitFor('az1 connected again', async () => (await status(0)).state === 'connected', 30_000);
    assert.equal((await status(0))['local-ts-port'], before['local-ts-port']);
    assert.equal((await lab.nbctl(['--bare', '--columns=name', 'list', 'Gateway_Chassis'])).split('\n').filter((l) => l.trim()).length, 1);
    assert.ok(await ping(pod(0, 'client').netns, pod(1, 'web-1').ip));
  });

  it('its own report agrees: every check ok', async () => {
    const checks = await m.check();
    assert.deepEqual(checks.filter((c) => !c.ok).map((c) => `${c.from} -> ${c.to}: ${c.detail}`), []);
    assert.ok(checks.filter((c) => c.kind === 'cluster').length >= 18);
    // Each cluster is a whole make-lab cluster: its own service answers from its own pods.
    for (const c of f.clusters) {
      assert.deepEqual(c.services.map((s) => `${s.namespace}/${s.name}`), ['default/web']);
      assert.ok(checks.some((x) => x.kind === 'service' && x.from.startsWith(`${c.name}:`) && x.ok), `${c.name} service checked`);
    }
  });
});
