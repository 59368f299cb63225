// `make lab`'s configuration end to end (prefix tle-mk-): real watcher, agents and gateway, the NetworkPolicy and
// the gateway node. Checked independently of the lab's report code (nc/ping from the pods' netns, NB rows), then
// against the report, which must show an allowed and a denied connection, SNAT and the NodePort.
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

  it('lab.json records the policy and the gateway', () => {
    assert.deepEqual(lab.file.policies?.map((p) => `${p.namespace}/${p.name}`), ['default/web-allow-clients']);
    assert.equal(lab.file.gateway?.node, 'node1');
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

  it('the report shows allowed and denied connections, SNAT and the NodePort, all as expected', async () => {
    const checks = await lab.check();
    assert.deepEqual(checks.filter((c) => !c.ok).map((c) => `${c.from} -> ${c.to}: ${c.detail}`), []);
    const policy = checks.filter((c) => c.kind === 'policy');
    assert.ok(policy.some((c) => c.detail.startsWith('allowed by default/web-allow-clients')), 'an allowed connection');
    assert.ok(policy.some((c) => c.detail.startsWith('denied by default/web-allow-clients')), 'a denied connection');
    const gw = checks.filter((c) => c.kind === 'gateway');
    assert.ok(gw.some((c) => c.from === 'default/web-1' && c.detail.includes(`sees ${lab.file.gateway?.nodeIp}`)), 'pod egress SNAT');
    assert.ok(gw.some((c) => c.from === 'external-host' && /hello from default\/web-/.test(c.detail)), 'NodePort');
    const text = lab.report(checks, 1000);
    assert.match(text, /network policy default\/web-allow-clients/);
    assert.match(text, /gateway node1/);
  });
});
