// kubectl-tessera end to end, on one lab with make lab's policy and gateways (prefix tkt-): trace (allowed across
// nodes, policy-denied, service), the topology page rendered in headless Chromium, diagnose green and then four
// breakages one at a time (each reported with its hint, repaired in between), connectivity passing and then failing
// under a blocking policy, with --lab and as on a cluster (kubeconfig, the shipped ClusterRole, the lab kubelet
// running the Tessera image's pods, pods/exec); nothing is left behind. The built dist/bin/kubectl-tessera runs.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CIDRS, startLab, teardownLab, type Lab } from '../../lab/cluster.js';
import { alive, daemonEnv, daemonFlags, readPid } from '../../lab/daemon.js';
import { run } from '../../lab/exec.js';
import { kubectlHints } from '../../lab/kubectl-hints.js';
import { DEFAULT_POLICY } from '../../lab/policy.js';
import { BIN_DIR, REPO_ROOT } from '../../lab/paths.js';
import { POD_SERVER_PORT } from '../../lab/report.js';
import { waitFor } from '../../lab/wait.js';
import { POD_NETWORKS_ANNOTATION } from '../../lib/kube/annotations.js';
import type { CheckResult } from '../../kubectl-tessera/diagnose/result.js';
import type { TraceReport } from '../../kubectl-tessera/trace/report.js';

const pexec = promisify(execFile);
const PREFIX = 'tkt-';
const PLUGIN = join(BIN_DIR, 'kubectl-tessera');
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'kubectl-tessera');

interface Ran { code: number; stdout: string; stderr: string }

async function sh(cmd: string, args: string[], timeout = 120_000): Promise<Ran> {
  try {
    const r = await pexec(cmd, args, { timeout, maxBuffer: 16 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('kubectl-tessera (e2e, prefix tkt-)', function () {
  this.timeout(300_000);
  let lab: Lab;
  const kt = (args: string[], timeout?: number): Promise<Ran> => sh(PLUGIN, ['--lab', lab.labFilePath, ...args], timeout);
  const pod = (name: string): Lab['file']['pods'][number] => lab.file.pods.find((p) => p.name === name) as Lab['file']['pods'][number];
  const trace = async (args: string[]): Promise<TraceReport> => {
    const r = await kt(['trace', ...args, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as TraceReport;
  };
  const diagnose = async (): Promise<{ code: number; rows: CheckResult[]; text: string }> => {
    const r = await kt(['diagnose', '--json']);
    assert.ok(r.stdout.trim().startsWith('['), `diagnose --json printed no table (exit ${r.code}): ${r.stderr}`);
    return { code: r.code, rows: JSON.parse(r.stdout) as CheckResult[], text: r.stdout };
  };
  const failed = (rows: CheckResult[]): string[] => rows.filter((r) => !r.ok).map((r) => `${r.area} ${r.subject}: ${r.detail} | hint: ${r.hint}`);
  const waitGreen = (what: string): Promise<number> => waitFor(`diagnose green again after ${what}`, async () => (await diagnose()).code === 0, 60_000, 1000);

  before(async () => {
    lab = await startLab({ prefix: PREFIX, nodes: 2, policies: [DEFAULT_POLICY(POD_SERVER_PORT, [CIDRS.join])], gateway: true });
  });
  after(async () => {
    await teardownLab({ prefix: PREFIX });
  });

  it('make lab\'s printed commands run: diagnose is green on a healthy lab and the trace lines work', async () => {
    const lines = kubectlHints(lab.labFilePath, lab.file, REPO_ROOT).split('\n').filter((l) => /^ {2}\S+ --lab \S+ (diagnose|trace)/.test(l));
    assert.equal(lines.length, 3);
    for (const l of lines) {
      const [cmd, ...args] = l.trim().split(' ');
      const r = await sh(join(REPO_ROOT, cmd), args);
      assert.equal(r.code, 0, `${l}: ${r.stderr}${r.stdout}`);
    }
    const d = await diagnose();
    assert.equal(d.code, 0, failed(d.rows).join('\n'));
    for (const area of ['control', 'raft', 'node', 'pod', 'stale', 'ipam', 'ovn-ic', 'patch-flow']) assert.ok(d.rows.some((r) => r.area === area), `no ${area} row`);
    assert.equal(d.rows.filter((r) => r.area === 'pod').length, lab.file.pods.length, 'a row per Running pod');
    assert.match(d.rows.find((r) => r.area === 'ipam')?.detail ?? '', /matching the watcher's allocator \(node1: 2, node2: 2\)/);
  });

  it('trace: allowed pod->pod across nodes is delivered, enters on node1 and leaves on node2, through the policy\'s allow ACL', async () => {
    const r = await trace(['default/client', `default/web-2:${POD_SERVER_PORT}`]);
    assert.equal(pod('client').node, 'node1');
    assert.equal(pod('web-2').node, 'node2');
    assert.equal(r.verdict, 'delivered');
    assert.equal(r.lastPort, 'default_web-2');
    assert.equal(r.entersOn, 'node1');
    assert.equal(r.leavesOn, 'node2');
    assert.deepEqual(r.summary.datapaths, ['node1', 'ovn_cluster_router', 'node2']);
    assert.ok(r.acls.some((a) => a.owner === 'NetworkPolicy default/web-allow-clients' && a.verdict === 'allow'), JSON.stringify(r.acls));
    const text = await kt(['trace', 'default/client', `default/web-2:${POD_SERVER_PORT}`]);
    assert.match(text.stdout, /chassis {2}enters on node1, leaves on node2/);
  });

  it('trace: a NetworkPolicy-denied pair has verdict drop and names the ACL', async () => {
    const r = await trace(['default/web-1', `default/web-2:${POD_SERVER_PORT}`]);
    assert.equal(r.verdict, 'drop');
    const drop = r.acls.find((a) => a.verdict === 'drop');
    assert.ok(drop, JSON.stringify(r.acls));
    assert.equal(drop.owner, 'NetworkPolicy default/web-allow-clients');
    assert.equal(drop.rule, 'default-deny');
    assert.equal(drop.action, 'drop');
    const text = (await kt(['trace', 'default/web-1', `default/web-2:${POD_SERVER_PORT}`])).stdout;
    assert.match(text, /verdict {2}drop \(by ls_out_acl on node2/);
    assert.match(text, /ACL .* drop \(NetworkPolicy default\/web-allow-clients, rule default-deny\)/);
  });

  it('trace: pod->service shows the load balancer, its backends and the backend the packet reached', async () => {
    const r = await trace(['default/client', 'default/web']);
    const lb = r.summary.lbs[0];
    assert.ok(lb, 'no load balancer in the trace');
    assert.equal(lb.vip, '10.96.0.10:80');
    assert.deepEqual([...lb.backends].sort(), [pod('web-1'), pod('web-2')].map((p) => `${p.ip}:${POD_SERVER_PORT}`).sort());
    assert.ok(r.lbChosen && lb.backends.includes(r.lbChosen), `chosen ${r.lbChosen}`);
    const chosen = lab.file.pods.find((p) => `${p.ip}:${POD_SERVER_PORT}` === r.lbChosen);
    assert.equal(r.lastPort, `default_${chosen?.name}`);
    assert.equal(r.leavesOn, chosen?.node);
  });

  it('topology --html: a self-contained page that headless Chromium renders without errors, showing the lab\'s routers and switches', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const html = join(ARTIFACTS, 'topology.html');
    const png = join(ARTIFACTS, 'topology.png');
    assert.equal((await kt(['topology', '--html', html])).code, 0);
    const page = readFileSync(html, 'utf8');
    assert.doesNotMatch(page, /<script|<link|@import|url\(|https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'the page loads nothing from elsewhere');
    const chrome = ['--headless', '--no-sandbox', '--disable-gpu', '--enable-logging=stderr', '--v=0', '--window-size=1300,800', '--user-data-dir=' + join(ARTIFACTS, 'chromium-profile')];
    const shot = await sh('chromium', [...chrome, `--screenshot=${png}`, `file://${html}`]);
    assert.equal(shot.code, 0, shot.stderr);
    const dom = await sh('chromium', [...chrome, '--dump-dom', `file://${html}`]);
    assert.equal(dom.code, 0, dom.stderr);
    for (const out of [shot.stderr, dom.stderr]) {
      assert.doesNotMatch(out, /CONSOLE\(|Uncaught|net::ERR_|Failed to load/, 'the page logged an error');
    }
    const png8 = readFileSync(png).subarray(0, 8);
    assert.deepEqual([...png8], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.ok(statSync(png).size > 10_000, 'a screenshot with something drawn');
    assert.match(dom.stdout, /<svg[^>]*aria-label="Tessera logical topology"/);
    for (const name of ['ovn_cluster_router', 'GR_node1', 'GR_node2']) assert.match(dom.stdout, new RegExp(`id="router-${name}"`), `router ${name}`);
    for (const name of ['node1', 'node2', 'join', 'ext_node1', 'ext_node2']) assert.match(dom.stdout, new RegExp(`id="switch-${name}"`), `switch ${name}`);
    assert.match(dom.stdout, /10\.244\.0\.0\/24|10\.244\.1\.0\/24/);
    const text = (await kt(['topology'])).stdout;
    assert.match(text, /^router ovn_cluster_router$/m);
    assert.match(text, /^node switch node1 \S+: 2 pods, routers ovn_cluster_router$/m);
  });

  it('diagnose: a deleted OVS port is reported with its hint', async () => {
    const p = pod('web-2');
    const ids = await lab.vsctl(p.node, ['get', 'Interface', p.hostIface, 'external_ids']);
    // The agent puts a deleted pod port back within milliseconds: freeze it so diagnose sees the breakage.
    const agent = readPid(join((lab.nodes.find((n) => n.name === p.node) as Lab['nodes'][number]).dir, 'tessera-agent.pid')) as number;
    process.kill(agent, 'SIGSTOP');
    let d: Awaited<ReturnType<typeof diagnose>>;
    try {
      await lab.vsctl(p.node, ['del-port', 'br-int', p.hostIface]);
      d = await diagnose();
    } finally {
      process.kill(agent, 'SIGCONT');
    }
    assert.equal(d.code, 1);
    const row = d.rows.find((r) => !r.ok && r.subject === 'default/web-2');
    assert.ok(row, failed(d.rows).join('\n'));
    assert.match(row.detail, /no OVS port with iface-id=default_web-2 on node2/);
    assert.match(row.hint ?? '', /delete the pod .*CNI ADD creates the port/);
    // Repair: the same port back with its external_ids (ovn-controller sets ovn-installed again).
    // The agent, running again, restores the port (its drift repair); the same repair by hand if it has not yet.
    const keep = ids.replace(/^\{|\}$/g, '').split(', ').filter((kv) => !kv.startsWith('ovn-installed')).map((kv) => `external_ids:${kv}`);
    await lab.vsctl(p.node, ['--may-exist', 'add-port', 'br-int', p.hostIface, '--', 'set', 'Interface', p.hostIface, ...keep]);
    await waitGreen('the OVS port came back');
  });

  it('diagnose: a stopped ovn-controller is reported with its hint', async () => {
    const node = lab.nodes.find((n) => n.name === 'node2') as Lab['nodes'][number];
    const pid = readPid(join(node.dir, 'ovn-controller.pid')) as number;
    process.kill(pid, 'SIGKILL');
    await waitFor('ovn-controller to exit', () => !alive(pid), 10_000, 100);
    const d = await diagnose();
    assert.equal(d.code, 1);
    assert.deepEqual(d.rows.filter((r) => !r.ok).map((r) => r.subject), ['node2 ovn-controller'], failed(d.rows).join('\n'));
    assert.match(d.rows.find((r) => !r.ok)?.hint ?? '', /ovn-controller on node2 is down .*restart it/);
    await run('ovn-controller', [`unix:${node.dbSocket}`, ...daemonFlags(node.dir, 'ovn-controller', false)], { netns: node.netns, env: daemonEnv(node.dir) });
    await waitGreen('ovn-controller restarted');
  });

  it('diagnose: an annotation hand-edited to a wrong IP is reported with its hint (watcher stopped: it rewrites its annotations)', async () => {
    const kube = lab.kube as NonNullable<Lab['kube']>;
    const path = '/api/v1/namespaces/default/pods/client-2';
    const good = (await kube.get(path)).metadata.annotations?.[POD_NETWORKS_ANNOTATION] as string;
    const ip = pod('client-2').ip;
    const wrong = ip.replace(/\.\d+$/, '.199');
    await lab.stopWatcher();
    try {
      await kube.patch(path, { metadata: { annotations: { [POD_NETWORKS_ANNOTATION]: good.replace(`"${ip}/`, `"${wrong}/`) } } }, 'merge');
      const d = await diagnose();
      assert.equal(d.code, 1);
      const row = d.rows.find((r) => !r.ok && r.subject === 'default/client-2');
      assert.ok(row, failed(d.rows).join('\n'));
      assert.match(row.detail, new RegExp(`annotation says \\S+ ${wrong.replace(/\./g, '\\.')}, NB port default_client-2 has \\S+ ${ip.replace(/\./g, '\\.')}`));
      assert.match(row.hint ?? '', /annotation was changed by hand/);
    } finally {
      await kube.patch(path, { metadata: { annotations: { [POD_NETWORKS_ANNOTATION]: good } } }, 'merge');
      await lab.startWatcher();
    }
    await waitGreen('the annotation was restored');
  });

  it('diagnose: a deleted switch port is reported (pod row and the now stale OVS port), each with its hint', async () => {
    // The watcher restores a deleted port of its own within milliseconds: stop it so diagnose sees the breakage.
    await lab.stopWatcher();
    await lab.nbctl(['lsp-del', 'default_client-2']);
    const d = await diagnose();
    assert.equal(d.code, 1);
    const podRow = d.rows.find((r) => !r.ok && r.subject === 'default/client-2');
    assert.ok(podRow, failed(d.rows).join('\n'));
    assert.match(podRow.detail, /no logical switch port default_client-2 in NB/);
    assert.match(podRow.hint ?? '', /watcher recreates it/);
    const stale = d.rows.find((r) => !r.ok && r.area === 'stale');
    assert.ok(stale, failed(d.rows).join('\n'));
    assert.equal(stale.subject, `ovs node2/${pod('client-2').hostIface}`);
    assert.match(stale.hint ?? '', /del-port br-int/);
    // The hint's repair: the watcher's resync (here its start) creates the port again from the pod and its annotation.
    await lab.startWatcher();
    await waitGreen('the watcher recreated the switch port');
  });

  it('connectivity: passes on the lab and leaves nothing behind', async () => {
    const r = await kt(['connectivity'], 180_000);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    for (const check of ['pod->pod same node', 'pod->pod cross node', 'service', 'NodePort', 'egress', 'policy allow', 'policy deny']) {
      assert.match(r.stdout, new RegExp(`^OK +${check.replace(/[>]/g, '\\$&')} `, 'm'), `${check}:\n${r.stdout}`);
    }
    assert.match(r.stdout, /^all \d+ paths OK$/m);
    await waitNothingLeft();
  });

  /** Runs `probe` while a NetworkPolicy blocks ingress to the connectivity servers; the policy goes afterwards. */
  const withServersBlocked = async (probe: () => Promise<void>): Promise<void> => {
    const kube = lab.kube as NonNullable<Lab['kube']>;
    const ns = 'tessera-connectivity';
    await kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await kube.create(`/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`, { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy',
      metadata: { name: 'block-servers', namespace: ns }, spec: { podSelector: { matchLabels: { app: 'ct-server' } }, policyTypes: ['Ingress'] } });
    try {
      await probe();
    } finally {
      await kube.delete(`/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/block-servers`).catch(() => undefined);
    }
  };

  it('connectivity: a policy that blocks the servers fails with a clear matrix, and is still cleaned up', async () => {
    await withServersBlocked(async () => {
      const r = await kt(['connectivity'], 180_000);
      assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
      for (const check of ['pod->pod same node', 'pod->pod cross node', 'service']) assert.match(r.stdout, new RegExp(`^FAIL +${check.replace(/[>]/g, '\\$&')} +client +.+? +reach +no connection to`, 'm'), r.stdout);
      // Paths the policy does not touch still pass: the matrix tells them apart.
      for (const check of ['egress', 'policy allow', 'policy deny']) assert.match(r.stdout, new RegExp(`^OK +${check} `, 'm'), r.stdout);
      assert.match(r.stdout, /^\d+ of \d+ paths FAILED$/m);
    });
    await waitNothingLeft();
    const d = await diagnose();
    assert.equal(d.code, 0, failed(d.rows).join('\n'));
  });

  // Without --lab: kubectl-tessera as an operator runs it, from a host that reaches the API server's address (the
  // central netns), with a kubeconfig whose user is the ServiceAccount of deploy/kubectl-tessera/rbac.yaml (so the
  // shipped ClusterRole is what authorizes it). The pods are ordinary Pods of the Tessera image; the lab kubelet runs
  // them and serves the exec that the double proxies; the endpointslice part is the lab kubelet's too.
  const clusterKt = async (args: string[], external = true): Promise<Ran> => {
    const api = lab.file.apiserver as NonNullable<Lab['file']['apiserver']>;
    const token = readFileSync(api.serviceAccountTokenFiles?.['tessera-connectivity'] as string, 'utf8').trim();
    const kubeconfig = join(lab.stateDir, 'connectivity.kubeconfig');
    // The double serves plain http; client-node 2 refuses an http:// server unless the cluster skips TLS verification.
    writeFileSync(kubeconfig, JSON.stringify({ apiVersion: 'v1', kind: 'Config', 'current-context': 'lab',
      clusters: [{ name: 'lab', cluster: { server: api.url, 'insecure-skip-tls-verify': true } }], users: [{ name: 'ct', user: { token } }],
      contexts: [{ name: 'lab', context: { cluster: 'lab', user: 'ct' } }] }), { mode: 0o600 });
    const gw = lab.file.gateway as NonNullable<Lab['file']['gateway']>;
    return sh('ip', ['netns', 'exec', lab.file.central.netns, 'env', '-u', 'TESSERA_LAB', PLUGIN, '--kubeconfig', kubeconfig,
      'connectivity', ...(external ? ['--external-host', `${gw.extIp}:${gw.extPort}`] : []), ...args], 180_000);
  };

  it('connectivity without --lab: real pods of the Tessera image, probes through pods/exec, passes and leaves nothing behind', async () => {
    const r = await clusterKt([]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    for (const check of ['pod->pod same node', 'pod->pod cross node', 'service', 'NodePort', 'egress', 'policy allow', 'policy deny']) {
      assert.match(r.stdout, new RegExp(`^OK +${check.replace(/[>]/g, '\\$&')} `, 'm'), `${check}:\n${r.stdout}`);
    }
    assert.match(r.stdout, /^all 8 paths OK$/m);
    await waitNothingLeft();
  });

  it('connectivity without --lab or an external host: a policy that blocks the servers fails with a clear matrix, NodePort and egress are SKIP rows', async () => {
    await withServersBlocked(async () => {
      const r = await clusterKt([], false);
      assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
      for (const check of ['pod->pod same node', 'pod->pod cross node', 'service']) assert.match(r.stdout, new RegExp(`^FAIL +${check.replace(/[>]/g, '\\$&')} +client +.+? +reach +no connection to .*(timeout|ECONNREFUSED)`, 'm'), r.stdout);
      for (const check of ['policy allow', 'policy deny']) assert.match(r.stdout, new RegExp(`^OK +${check} `, 'm'), r.stdout);
      for (const check of ['NodePort', 'egress']) assert.match(r.stdout, new RegExp(`^SKIP +${check} .* skipped: no host outside the cluster: give --external-host`, 'm'), r.stdout);
      assert.match(r.stdout, /^3 of 5 paths FAILED, 2 skipped$/m);
    });
    await waitNothingLeft();
  });

  /** The namespace is gone at once; the kubelet's teardown (CNI DEL, netns) follows the pods' deletion, as on a node. */
  async function waitNothingLeft(): Promise<void> {
    await assert.rejects((lab.kube as NonNullable<Lab['kube']>).get('/api/v1/namespaces/tessera-connectivity'), /404|not ?found/i);
    await waitFor('the lab kubelet to remove the test pods\' netns and ports', async () => {
      const netns = (await sh('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.includes('tessera-connectivity'));
      const ovs = (await Promise.all(lab.file.nodes.map((n) => lab.vsctl(n.name, ['--bare', '--columns=external_ids', 'find', 'Interface']))))
        .join('\n').split('\n').filter((l) => l.includes('tessera-connectivity_'));
      return netns.length === 0 && ovs.length === 0;
    }, 15_000);
    await assertNoTestPods();
  }

  async function assertNoTestPods(): Promise<void> {
    const netns = (await sh('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.includes('tessera-connectivity'));
    assert.deepEqual(netns, []);
    const lsps = (await lab.nbctl(['--bare', '--columns=name', 'find', 'Logical_Switch_Port'])).split('\n').filter((l) => l.startsWith('tessera-connectivity_'));
    assert.deepEqual(lsps, []);
    const pods = await (lab.kube as NonNullable<Lab['kube']>).list('/api/v1/namespaces/tessera-connectivity/pods');
    assert.deepEqual(pods.items.map((p) => p.metadata.name), []);
  }
});
