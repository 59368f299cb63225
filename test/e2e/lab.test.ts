// The lab end to end: a 2-node lab with prefix tle-, checked independently of the lab's own report code
// (lab.json against the kernel and OVSDB, pings and TCP bytes with nc), then torn down without leftovers.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { defaultStateDir, startLab, teardownLab, type Lab } from '../../lab/cluster.js';
import { alive, daemonProcesses, describeProcess, processesNaming } from '../../lab/daemon.js';
import type { LabFile } from '../../lab/lab-file.js';
import { AGENT_HEALTH_PORT, WATCHER_HEALTH_PORT } from '../../lab/tessera.js';
import { networkPoliciesPath } from '../../lab/policy.js';

const exec = promisify(execFile);
const PREFIX = 'tle-';

async function sh(cmd: string, args: string[], timeout = 20_000): Promise<string> {
  return (await exec(cmd, args, { timeout, maxBuffer: 8 << 20 })).stdout.trim();
}
const inNs = (ns: string, cmd: string, args: string[]): Promise<string> => sh('ip', ['netns', 'exec', ns, cmd, ...args]);
const ourNetns = async (): Promise<string[]> => (await sh('ip', ['netns', 'list'])).split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(PREFIX));

/** Listens with nc in `to`, sends `bytes` from `from` with nc, returns [bytes the listener got, reply the sender got]. */
async function ncExchange(from: string, to: { netns: string; ip: string }, bytes: number, port: number): Promise<[number, string]> {
  const listener = spawn('ip', ['netns', 'exec', to.netns, 'timeout', '20', 'nc', '-l', '-p', String(port)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let received = 0;
  listener.stdout.on('data', (d: Buffer) => (received += d.length));
  const done = new Promise<void>((r) => listener.on('exit', () => r()));
  for (let i = 0; i < 100; i++) {
    if ((await inNs(to.netns, 'ss', ['-Htln', `sport = :${port}`])) !== '') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  listener.stdin.end(`reply-from-${to.netns}\n`);
  const client = execFile('ip', ['netns', 'exec', from, 'nc', '-N', '-w', '5', to.ip, String(port)], { timeout: 20_000 });
  let reply = '';
  client.stdout?.on('data', (d: Buffer) => (reply += d.toString()));
  client.stdin?.end(Buffer.alloc(bytes, 0x61));
  await new Promise<void>((r) => client.on('exit', () => r()));
  await done;
  return [received, reply.trim()];
}

describe('lab (e2e, prefix tle-)', function () {
  this.timeout(120_000);
  // The prefix's deterministic state dir (/tmp/tle-lab): a crashed earlier run gets cleaned by this one.
  const stateDir = defaultStateDir(PREFIX);
  let lab: Lab | undefined;
  let file: LabFile;

  before(async () => {
    lab = await startLab({ prefix: PREFIX, nodes: 2 });
    assert.equal(lab.stateDir, stateDir);
    file = JSON.parse(readFileSync(join(stateDir, 'lab.json'), 'utf8')) as LabFile;
  });

  after(async () => {
    await teardownLab({ prefix: PREFIX });
  });

  it('writes lab.json that matches the running lab', async () => {
    assert.equal(file.prefix, PREFIX);
    assert.deepEqual(file.nodes.map((n) => n.name), ['node1', 'node2']);
    const netns = await ourNetns();
    for (const n of file.nodes) {
      assert.ok(netns.includes(n.netns), `node netns ${n.netns} exists`);
      assert.ok(existsSync(join(n.ovsRunDir, 'db.sock')), `${n.name} OVS db socket in its run dir`);
    }
    for (const db of [file.nb, file.sb]) {
      assert.ok(existsSync(db.unixSocket), `${db.unixSocket} exists`);
      assert.match(db.remotes[0], /^ssl:192\.168\.77\.2:66\d\d$/);
    }
    const chassis = (await sh('ovn-sbctl', [`--db=unix:${file.sb.unixSocket}`, '--bare', '--columns=name', 'list', 'Chassis'])).split('\n').filter((l) => l !== '').sort();
    assert.deepEqual(chassis, ['node1', 'node2']);
    const lsps = (await sh('ovn-nbctl', [`--db=unix:${file.nb.unixSocket}`, '--bare', '--columns=name', 'list', 'Logical_Switch_Port'])).split('\n');
    assert.ok(file.pods.length >= 2);
    for (const p of file.pods) {
      assert.ok(netns.includes(p.netns), `pod netns ${p.netns} exists`);
      const addrs = JSON.parse(await sh('ip', ['-n', p.netns, '-j', 'addr', 'show', 'eth0'])) as Array<{ addr_info: Array<{ local: string }> }>;
      assert.ok(addrs[0].addr_info.some((a) => a.local === p.ip), `${p.ip} is configured in ${p.netns}`);
      const node = file.nodes.find((n) => n.name === p.node);
      assert.ok(node && p.ip.startsWith(node.subnet.replace(/0\/24$/, '')), `${p.ip} inside ${p.node}'s subnet`);
      assert.ok(lsps.includes(`${p.namespace}_${p.name}`), `NB has a port for ${p.namespace}/${p.name}`);
      // The node's OVS has the pod's port, bound by ovn-controller; with the real agent it came through cnitool.
      const ids = await sh('ovs-vsctl', [`--db=unix:${node.ovsRunDir}/db.sock`, 'get', 'Interface', p.hostIface, 'external_ids']);
      assert.match(ids, new RegExp(`iface-id=${p.namespace}_${p.name}[,}]`));
      assert.match(ids, /ovn-installed="true"/);
      assert.match(ids, /sandbox=cnitool-[0-9a-f]{20}/);
    }
    assert.deepEqual(file.services.map((s) => [s.namespace, s.name, s.clusterIP, s.ports[0].port]), [['default', 'web', '10.96.0.10', 80]]);
  });

  it('keeps the API tokens off every command line; the daemons read their service accounts\' tokens; lab.json and the token files are 0600', () => {
    assert.ok(file.apiserver);
    const token = file.apiserver.token;
    const saFiles = Object.values(file.apiserver.serviceAccountTokenFiles ?? {});
    // tessera-connectivity (deploy/kubectl-tessera/rbac.yaml) is for `kubectl tessera connectivity`, not a daemon.
    assert.deepEqual(Object.keys(file.apiserver.serviceAccountTokenFiles ?? {}).sort(), ['tessera-agent', 'tessera-connectivity', 'tessera-gateway', 'tessera-watcher']);
    const saTokens = saFiles.map((f) => readFileSync(f, 'utf8'));
    let readers = 0;
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      let argv: string[];
      try {
        argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      } catch {
        continue; // exited meanwhile
      }
      assert.ok(![token, ...saTokens].some((t) => argv.some((a) => a.includes(t))), `pid ${pid} has a token on its command line: ${argv.join(' ')}`);
      if (argv.includes('--kube-token-file') && saFiles.includes(argv[argv.indexOf('--kube-token-file') + 1])) readers++;
    }
    assert.ok(readers >= 3, `the watcher and both agents read their service account's token file (found ${readers})`);
    assert.equal(readFileSync(file.apiserver.tokenFile, 'utf8'), token);
    for (const f of [join(stateDir, 'lab.json'), file.apiserver.tokenFile, ...saFiles]) assert.equal(statSync(f).mode & 0o777, 0o600, f);
  });

  it('serves the lab over the API test server, reachable from a node netns with the token from lab.json', async () => {
    assert.ok(file.apiserver, 'lab.json names the apiserver');
    assert.equal(file.apiserver.url, 'http://192.168.77.2:6443');
    // Fetch from inside node1's netns, over the underlay, as an in-cluster component would.
    const get = (path: string, token: string): Promise<string> => inNs(file.nodes[0].netns, process.execPath, ['-e',
      'fetch(process.argv[1], { headers: { authorization: "Bearer " + process.argv[2] } }).then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.json() })))',
      `${file.apiserver?.url}${path}`, token]);
    const denied = JSON.parse(await get('/api/v1/nodes', 'wrong-token')) as { status: number };
    assert.equal(denied.status, 401);
    type Item = { metadata: { name: string; annotations?: Record<string, string> }; spec?: { nodeName?: string }; status?: { podIP?: string } };
    const nodes = JSON.parse(await get('/api/v1/nodes', file.apiserver.token)) as { status: number; body: { items: Item[] } };
    assert.equal(nodes.status, 200);
    assert.deepEqual(nodes.body.items.map((n) => [n.metadata.name, n.metadata.annotations?.['tessera.io/node-subnet']]),
      file.nodes.map((n) => [n.name, n.subnet]));
    const pods = JSON.parse(await get('/api/v1/pods', file.apiserver.token)) as { body: { items: Item[] } };
    const byName = new Map(pods.body.items.map((p) => [p.metadata.name, p]));
    for (const p of file.pods) {
      const obj = byName.get(p.name);
      assert.ok(obj, `Pod ${p.name} exists`);
      assert.equal(obj.spec?.nodeName, p.node);
      assert.equal(obj.status?.podIP, p.ip);
      const net = JSON.parse(obj.metadata.annotations?.['tessera.io/pod-networks'] ?? '{}') as { default?: { ip_addresses: string[] } };
      assert.equal(net.default?.ip_addresses[0]?.split('/')[0], p.ip);
    }
  });

  it('pods on node1 and node2 ping each other', async () => {
    const a = file.pods.find((p) => p.node === 'node1');
    const b = file.pods.find((p) => p.node === 'node2');
    assert.ok(a && b);
    for (const [x, y] of [[a, b], [b, a]]) {
      const out = await inNs(x.netns, 'ping', ['-n', '-c', '3', '-i', '0.2', '-w', '6', y.ip]);
      assert.match(out, /3 received/, `${x.name} -> ${y.name}`);
    }
  });

  it('pods on node1 and node2 exchange TCP bytes both ways', async () => {
    const a = file.pods.find((p) => p.node === 'node1');
    const b = file.pods.find((p) => p.node === 'node2');
    assert.ok(a && b);
    const [got, reply] = await ncExchange(a.netns, b, 1_000_000, 9000);
    assert.equal(got, 1_000_000);
    assert.equal(reply, `reply-from-${b.netns}`);
    const [got2, reply2] = await ncExchange(b.netns, a, 200_000, 9001);
    assert.equal(got2, 200_000);
    assert.equal(reply2, `reply-from-${a.netns}`);
  });

  it('agents and the watcher serve /metrics that carry the lab\'s real ADD and address counts', async () => {
    const metrics = async (netns: string, port: number): Promise<string> =>
      inNs(netns, process.execPath, ['-e', 'fetch(process.argv[1]).then(async (r) => { if (!r.ok) process.exit(1); process.stdout.write(await r.text()); })', `http://127.0.0.1:${port}/metrics`]);
    const value = (text: string, series: string): number => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? 0 : Number(line.slice(series.length + 1));
    };
    const watcher = await metrics(file.central.netns, WATCHER_HEALTH_PORT);
    for (const n of file.nodes) {
      const pods = file.pods.filter((p) => p.node === n.name).length;
      const agent = await metrics(n.netns, AGENT_HEALTH_PORT);
      const errors = agent.split('\n').filter((l) => l.startsWith('tessera_agent_cni_errors_total{command="ADD"')).reduce((a, l) => a + Number(l.split(' ')[1]), 0);
      assert.equal(value(agent, 'tessera_agent_cni_add_stage_duration_seconds_count{stage="ovn_installed"}'), pods, `${n.name}: wired ADDs`);
      assert.equal(value(agent, 'tessera_agent_cni_request_duration_seconds_count{command="ADD"}') - errors, pods, `${n.name}: ADDs that succeeded`);
      assert.equal(value(agent, 'tessera_agent_pod_ports'), pods, `${n.name}: pod ports`);
      assert.equal(value(watcher, `tessera_watcher_ipam_used_addresses{switch="${n.name}",subnet="${n.subnet}"}`), pods, `${n.name}: addresses used`);
    }
    assert.equal(value(watcher, 'tessera_watcher_leader'), 1);
  });

  it('reaches the service VIP and its own report agrees', async () => {
    assert.ok(lab);
    const checks = await lab.check();
    const failed = checks.filter((c) => !c.ok);
    assert.deepEqual(failed, []);
    assert.ok(checks.some((c) => c.kind === 'service'));
  });

  it("a NetworkPolicy's port group and ACLs deleted in NB come back within 5 s, and its pod is isolated again", async () => {
    assert.ok(lab?.kube);
    const l = lab;
    const kube = lab.kube;
    const a = file.pods.find((p) => p.node === 'node1')!;
    const b = file.pods.find((p) => p.node === 'node2')!;
    const pings = async (): Promise<boolean> => inNs(a.netns, 'ping', ['-n', '-c', '1', '-W', '1', b.ip]).then(() => true, () => false);
    // Isolate b: a policy that selects only b and allows no ingress.
    await kube.create(networkPoliciesPath(b.namespace), {
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'isolate-b', namespace: b.namespace },
      spec: { podSelector: { matchLabels: { 'tessera.io/lab-drift': 'b' } }, policyTypes: ['Ingress'], ingress: [] },
    });
    await kube.patch(`/api/v1/namespaces/${b.namespace}/pods/${b.name}`, { metadata: { labels: { 'tessera.io/lab-drift': 'b' } } });
    try {
      const until = async (what: string, ok: () => Promise<boolean>, ms: number) => {
        const t0 = Date.now();
        while (!(await ok())) {
          assert.ok(Date.now() - t0 < ms, `timed out waiting for ${what}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        return Date.now() - t0;
      };
      await until(`${a.name} -> ${b.name} denied by isolate-b`, async () => !(await pings()), 20_000);
      const pg = (await l.nbctl(['--bare', '--columns=name', 'find', 'Port_Group', `external_ids:"tessera.io/object"="${b.namespace}/isolate-b"`])).trim();
      assert.ok(pg, 'the policy has a port group');
      const acls = async () => (await l.nbctl(['--if-exists', 'get', 'Port_Group', pg, 'acls']).catch(() => '')).replace(/[[\]\s]/g, '').split(',').filter((x) => x).length;
      const ports = async () => (await l.nbctl(['--if-exists', 'get', 'Port_Group', pg, 'ports']).catch(() => '')).replace(/[[\]\s]/g, '').split(',').filter((x) => x).length;
      const aclsBefore = await acls();
      assert.ok(aclsBefore >= 2 && (await ports()) === 1, `${aclsBefore} ACLs and b's port on ${pg}`);
      const t0 = Date.now();
      await l.nbctl(['pg-del', pg]);
      await until('the port group and its ACLs back', async () => (await acls()) === aclsBefore && (await ports()) === 1, 10_000);
      const ms = Date.now() - t0;
      process.stdout.write(`      policy port group + ACLs deleted: restored in ${ms} ms\n`);
      assert.ok(ms < 5000, `restored in ${ms} ms, goal < 5000 ms`);
      await new Promise((r) => setTimeout(r, 500)); // northd and ovn-controller turn the rows into flows
      assert.equal(await pings(), false, `${a.name} -> ${b.name} is denied again`);
    } finally {
      await kube.delete(`${networkPoliciesPath(b.namespace)}/isolate-b`);
    }
    const back = Date.now();
    while (!(await pings())) assert.ok(Date.now() - back < 20_000, 'the policy gone, b answers again');
  });

  it('adds and deletes a pod later, through CNI ADD and DEL, keeping lab.json current', async () => {
    assert.ok(lab);
    const added = await lab.addPod({ namespace: 'default', name: 'late', node: 'node2' });
    const onDisk = JSON.parse(readFileSync(join(stateDir, 'lab.json'), 'utf8')) as LabFile;
    assert.deepEqual(onDisk.pods.find((p) => p.name === 'late'), added);
    const web1 = file.pods.find((p) => p.name === 'web-1');
    assert.ok(web1);
    assert.match(await inNs(web1.netns, 'ping', ['-n', '-c', '2', '-i', '0.2', '-w', '6', added.ip]), /2 received/);
    const node2 = file.nodes.find((n) => n.name === 'node2');
    assert.ok(node2);
    const ifaces = async (): Promise<string[]> => (await sh('ovs-vsctl', [`--db=unix:${node2.ovsDbSocket}`, 'list-ifaces', 'br-int'])).split('\n');
    assert.ok((await ifaces()).includes(added.hostIface));
    await lab.deletePod('default', 'late');
    assert.ok(!(await ifaces()).includes(added.hostIface), 'DEL removed the OVS port');
    assert.ok(!(await ourNetns()).includes(added.netns));
    assert.equal((JSON.parse(readFileSync(join(stateDir, 'lab.json'), 'utf8')) as LabFile).pods.some((p) => p.name === 'late'), false);
    await assert.rejects(lab.kube?.get('/api/v1/namespaces/default/pods/late') ?? Promise.reject(new Error('no kube')), /404|not found/i);
  });

  it('stop() leaves no netns, daemons, state or cache entries behind', async () => {
    assert.ok(lab);
    const pids = lab.pids();
    // central: NB, SB, northd, apiserver, watcher; the lab kubelet; per node: ovsdb-server, vswitchd, ovn-controller, agent; per pod: server.
    assert.equal(pids.length, 5 + 1 + 4 * file.nodes.length + file.pods.length, `daemons recorded: ${pids.length}`);
    // Every process that names the lab's state dir is a daemon the pidfiles know about or a helper in its process
    // group (tsx's esbuild service on a cold cache, an agent's ovs-appctl), which teardown stops with it.
    const naming = processesNaming(stateDir);
    const owned = daemonProcesses(join(stateDir, 'run'));
    assert.deepEqual(naming.sort(), owned.sort(), `processes naming ${stateDir} outside the daemons' groups: ${naming.filter((p) => !owned.includes(p)).map(describeProcess).join('; ')}`);
    const hostIfaces = file.pods.map((p) => p.hostIface);
    await lab.stop();
    lab = undefined;
    assert.deepEqual(await ourNetns(), []);
    assert.deepEqual(pids.filter(alive), [], 'no lab daemon alive');
    const left = processesNaming(stateDir);
    assert.deepEqual(left, [], `no process naming the state dir: ${left.map(describeProcess).join('; ')}`);
    assert.ok(!existsSync(join(stateDir, 'run')) && !existsSync(join(stateDir, 'lab.json')));
    const rootLinks = (JSON.parse(await sh('ip', ['-j', 'link', 'show'])) as Array<{ ifname: string }>).map((l) => l.ifname);
    assert.deepEqual(rootLinks.filter((l) => hostIfaces.includes(l) || l.startsWith('ul-')), []);
    const cache = '/var/lib/cni/results';
    assert.deepEqual(existsSync(cache) ? readdirSync(cache).filter((f) => f.startsWith(`${PREFIX}net-`)) : [], []);
    // Idempotent: a second teardown finds nothing and does not fail.
    assert.deepEqual(await teardownLab({ prefix: PREFIX, stateDir }), []);
  });
});
