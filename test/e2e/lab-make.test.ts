// `make lab`'s configuration end to end (prefix tle-mk-): real watcher, agents and gateways, the NetworkPolicy and
// a gateway on every node. Checked independently of the lab's report code (nc/ping from the pods' netns, NB rows),
// including the egress matrix (every node x own node IP, other node IP, a service with a hostNetwork
// endpoint, the external host, NodePort), then against the report, which must cover that matrix for every node.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CIDRS, startLab, teardownLab, type Lab } from '../../lab/cluster.js';
import { DEFAULT_POLICY } from '../../lab/policy.js';
import { POD_SERVER_PORT } from '../../lab/report.js';

const exec = promisify(execFile);
const PREFIX = 'tle-mk-';

/** nc from a netns; resolves to the server's reply, or undefined when no connection was made within `waitS`. */
async function nc(netns: string, ip: string, port: number, waitS = 2): Promise<string | undefined> {
  try {
    const { stdout } = await exec('ip', ['netns', 'exec', netns, 'nc', '-N', '-w', String(waitS), ip, String(port)], { timeout: (waitS + 5) * 1000 });
    return stdout.trim() === '' ? undefined : stdout.trim();
  } catch {
    return undefined;
  }
}

/** One UDP datagram from a netns; the first line of the answer, or undefined. */
async function udp(netns: string, ip: string, port: number): Promise<string | undefined> {
  for (let i = 0; i < 3; i++) {
    const out = await new Promise<string>((resolve) => {
      const c = execFile('ip', ['netns', 'exec', netns, 'nc', '-u', '-w', '1', ip, String(port)], { timeout: 6000 }, (_e, stdout) => resolve(String(stdout)));
      c.stdin?.end('who\n');
    });
    if (out.trim() !== '') return out.trim().split('\n')[0];
  }
  return undefined;
}

async function ping(netns: string, ip: string): Promise<boolean> {
  return exec('ip', ['netns', 'exec', netns, 'ping', '-n', '-q', '-c', '2', '-i', '0.2', '-w', '5', ip], { timeout: 8000 }).then(() => true, () => false);
}

describe('make lab configuration (e2e, prefix tle-mk-): policy and gateway', function () {
  this.timeout(180_000);
  let lab: Lab;
  const pod = (name: string): Lab['file']['pods'][number] => {
    const p = lab.file.pods.find((x) => x.name === name);
    assert.ok(p, `pod ${name}`);
    return p;
  };

  before(async () => {
    lab = await startLab({ prefix: PREFIX, nodes: 2, gateway: true, policies: [DEFAULT_POLICY(POD_SERVER_PORT, [CIDRS.join])] });
  });
  after(async () => {
    await teardownLab({ prefix: PREFIX });
  });

  it('lab.json records the policy, a gateway on every node and the egress matrix', () => {
    assert.deepEqual(lab.file.policies?.map((p) => `${p.namespace}/${p.name}`), ['default/web-allow-clients']);
    assert.equal(lab.file.gateway?.node, 'node1');
    assert.deepEqual(lab.file.gateways?.map((g) => g.node), ['node1', 'node2']);
    assert.deepEqual(lab.file.pods.filter((p) => p.labels?.role === 'client').map((p) => p.node), ['node1', 'node2'], 'a client on every node');
    assert.equal(lab.file.egress?.hostService.nodeIp, lab.file.nodes[0]?.ip);
    assert.equal(lab.file.services.find((s) => s.name === 'web')?.type, 'NodePort');
    assert.equal(pod('client').labels?.role, 'client');
  });

  it('the policy is realised in the NB and in the data path: role=client gets in, other pods do not', async () => {
    const acls = await lab.nbctl(['--bare', '--columns=match', 'list', 'ACL']);
    assert.match(acls, /8080/, 'an ACL for the allowed port');
    assert.match((await nc(pod('client').netns, pod('web-2').ip, POD_SERVER_PORT)) ?? '', /^hello from default\/web-2$/m, 'client -> web-2 allowed');
    assert.equal(await nc(pod('web-1').netns, pod('web-2').ip, POD_SERVER_PORT), undefined, 'web-1 -> web-2 denied');
    assert.equal(await nc(pod('web-2').netns, pod('web-1').ip, POD_SERVER_PORT), undefined, 'web-2 -> web-1 denied');
    // Pods the policy does not select are unaffected.
    assert.match((await nc(pod('web-2').netns, pod('client').ip, POD_SERVER_PORT)) ?? '', /^hello from default\/client$/m);
  });

  it('the gateway SNATs pod egress to the node IP and serves the NodePort from outside', async () => {
    const g = lab.file.gateway;
    assert.ok(g);
    assert.equal(await nc(pod('web-1').netns, g.extIp, g.extPort, 3), `external-host sees ${g.nodeIp}`);
    assert.match((await nc(g.extNetns, g.nodeIp, g.nodePort, 3)) ?? '', /^hello from default\/web-[12]$/m);
  });

  it('pods on every node reach their own node, the other node, a hostNetwork service endpoint, the outside and NodePorts', async () => {
    const g = lab.file.gateway!;
    const e = lab.file.egress!;
    const nodeOf = (name: string) => lab.file.nodes.find((n) => n.name === name)!;
    const wrong: string[] = [];
    const expect = (what: string, got: string | undefined, want: string | RegExp): void => {
      if (typeof want === 'string' ? got !== want : !want.test(got ?? '')) wrong.push(`${what}: got ${JSON.stringify(got)}, want ${String(want)}`);
    };
    // Pods and nodes in parallel (each one's probes in sequence): a UDP probe waits a second for its answer.
    await Promise.all(lab.file.pods.map(async (p) => {
      const own = nodeOf(p.node);
      // Own node through the management port (the pod's address); elsewhere through the pod's GR (its node's IP).
      for (const n of lab.file.nodes) {
        const src = n.name === p.node ? p.ip : own.ip;
        expect(`${p.name}@${p.node} -> ${n.name} tcp`, await nc(p.netns, n.ip, e.hostPort, 3), `${n.name}-host sees ${src}`);
        expect(`${p.name}@${p.node} -> ${n.name} udp`, await udp(p.netns, n.ip, e.hostPort), `${n.name}-host sees ${src}`);
        expect(`${p.name}@${p.node} -> ${n.name} ping`, String(await ping(p.netns, n.ip)), 'true');
      }
      const s = e.hostService;
      const svcSrc = s.node === p.node ? p.ip : own.ip;
      expect(`${p.name}@${p.node} -> ${s.clusterIP} tcp`, await nc(p.netns, s.clusterIP, s.port, 3), `${s.node}-host sees ${svcSrc}`);
      expect(`${p.name}@${p.node} -> ${s.clusterIP} udp`, await udp(p.netns, s.clusterIP, s.port), `${s.node}-host sees ${svcSrc}`);
      expect(`${p.name}@${p.node} -> external tcp`, await nc(p.netns, g.extIp, g.extPort, 3), `external-host sees ${own.ip}`);
      expect(`${p.name}@${p.node} -> external udp :53`, await udp(p.netns, g.extIp, e.dnsPort), `external-dns sees ${own.ip}`);
      expect(`${p.name}@${p.node} -> external ping`, String(await ping(p.netns, g.extIp)), 'true');
      if (p.labels?.role === 'client') {
        for (const n of lab.file.nodes) expect(`${p.name}@${p.node} -> NodePort on ${n.name}`, await nc(p.netns, n.ip, g.nodePort, 3), /^hello from default\/web-[12]$/m);
      }
    }));
    await Promise.all(lab.file.nodes.map(async (n) => {
      expect(`external -> NodePort on ${n.name}`, await nc(g.extNetns, n.ip, g.nodePort, 3), /^hello from default\/web-[12]$/m);
      for (const p of lab.file.pods) expect(`host ${n.name} -> ${p.name}@${p.node}`, (await nc(n.netns, p.ip, POD_SERVER_PORT, 3))?.split('\n')[0], `hello from default/${p.name}`);
      // Both backends, one of them on the node itself: its replies must come back through OVN to be un-DNATed.
      const servers = new Set<string>();
      for (let i = 0; i < 8; i++) servers.add((await nc(n.netns, '10.96.0.10', 80, 3))?.split('\n')[0] ?? 'no answer');
      expect(`host ${n.name} -> default/web ClusterIP`, [...servers].sort().join(','), 'hello from default/web-1,hello from default/web-2');
    }));
    assert.deepEqual(wrong, []);
  });

  it('the report shows allowed and denied connections, SNAT and the NodePort, all as expected', async () => {
    const checks = await lab.check();
    assert.deepEqual(checks.filter((c) => !c.ok).map((c) => `${c.from} -> ${c.to}: ${c.detail}`), []);
    const policy = checks.filter((c) => c.kind === 'policy');
    assert.ok(policy.some((c) => c.detail.startsWith('allowed by default/web-allow-clients')), 'an allowed connection');
    assert.ok(policy.some((c) => c.detail.startsWith('denied by default/web-allow-clients')), 'a denied connection');
    const gw = checks.filter((c) => c.kind === 'gateway');
    assert.ok(gw.some((c) => c.from === 'default/web-1' && c.detail.includes(`sees ${lab.file.gateway?.nodeIp}`)), 'pod egress SNAT');
    assert.ok(gw.some((c) => c.from === 'external-host' && /hello from default\/web-/.test(c.detail)), 'NodePort');
    // The egress matrix, for every node: each target kind from a pod there, and the node's own checks.
    const eg = checks.filter((c) => c.kind === 'egress');
    for (const n of lab.file.nodes) {
      const from = lab.file.pods.filter((p) => p.node === n.name).map((p) => `${p.namespace}/${p.name}`);
      const mine = eg.filter((c) => from.includes(c.from));
      for (const [what, re] of [['own node IP', /\(own\)$/], ['other node IP', /^node node\d$/], ['hostNetwork service', /^default\/host-api/],
        ['external host', /^external-host$/], ['external DNS-style', /^external-host \(DNS-style\)$/], ['own NodePort', /own node\)$/]] as const) {
        assert.ok(mine.some((c) => re.test(c.to)), `report: ${what} from a pod on ${n.name}`);
      }
      for (const proto of ['tcp', 'udp']) assert.ok(mine.some((c) => c.target.endsWith(`/${proto}`)), `report: ${proto} from ${n.name}`);
      assert.ok(mine.some((c) => c.detail.startsWith('rtt') || /^rtt|replies/.test(c.detail)), `report: ping from ${n.name}`);
      assert.ok(eg.some((c) => c.from === `node ${n.name}` && c.to === 'default/web'), `report: node ${n.name} -> ClusterIP`);
      assert.ok(gw.some((c) => c.from === 'external-host' && c.to.includes(`NodePort on ${n.name}`)), `report: NodePort on ${n.name} from outside`);
    }
    const text = lab.report(checks, 1000);
    assert.match(text, /network policy default\/web-allow-clients/);
    assert.match(text, /gateways node1 \S+, node2 /);
    assert.match(text, /egress matrix: /);
  });
});
