// Upgrade in the lab: a 2-node lab (watcher, gateways, agents) runs the previous version's executables (the ref of
// test/fixtures/previous-build.ts, built from its own tree), then every daemon is replaced by this tree's dist/bin one at a time
// (watcher, gateways, agents node by node), as a rolling update does. A ping between pods on different nodes runs the
// whole time; after each step the lab's full reachability matrix still holds, and after each agent a new pod on that
// node gets a network that works.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLab, teardownLab, type Lab } from '../../lab/cluster.js';
import { buildCommit, previousRef } from '../fixtures/previous-build.js';
import { rollingUpgrade, runningDaemons, type RunningDaemon } from '../../lab/upgrade.js';
import { BIN_DIR } from '../../lab/paths.js';

const PREFIX = 'tup-';
const CACHE = join(tmpdir(), 'tessera-upgrade-builds');
const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');

describe('upgrade: the previous version rolled over to this one, daemon by daemon, in the lab', function () {
  this.timeout(1_200_000);
  let lab: Lab;
  let oldBin: string;
  let ping: ChildProcess | undefined;
  let pingOut = '';

  before(async () => {
    await teardownLab({ prefix: PREFIX });
    oldBin = await buildCommit(await previousRef(), CACHE);
    lab = await startLab({ prefix: PREFIX, nodes: 2, binDir: oldBin, gateway: true });
  });
  after(async () => {
    if (ping && ping.exitCode === null) ping.kill('SIGKILL');
    await teardownLab({ prefix: PREFIX });
  });

  it('runs the old executables, which differ from the new ones', async () => {
    const daemons = await runningDaemons(lab.runDir);
    assert.deepEqual(daemons.map((d) => d.component).sort(), ['agent', 'agent', 'gateway', 'gateway', 'watcher']);
    for (const d of daemons) assert.ok(d.argv[0].startsWith(oldBin), `${d.name} runs ${d.argv[0]}`);
    assert.notEqual(sha(join(oldBin, 'tessera-agent')), sha(join(BIN_DIR, 'tessera-agent')), 'two different builds');
    assert.deepEqual((await lab.check()).filter((c) => !c.ok), []);
  });

  it('keeps existing pods talking through the rolling upgrade, and gives new pods networks on upgraded nodes', async () => {
    const client = lab.file.pods.find((p) => p.name === 'client') ?? assert.fail('no client pod');
    const remote = lab.file.pods.find((p) => p.node !== client.node && p.name.startsWith('web')) ?? assert.fail('no web pod on another node');
    // 5 pings a second across nodes for the whole upgrade; SIGINT at the end prints the totals.
    ping = spawn('ip', ['netns', 'exec', client.netns, 'ping', '-i', '0.2', '-W', '1', remote.ip], { stdio: ['ignore', 'pipe', 'pipe'] });
    ping.stdout?.on('data', (d: Buffer) => (pingOut += d.toString()));
    await new Promise((r) => setTimeout(r, 2000));

    const steps: string[] = [];
    const upgraded = await rollingUpgrade(lab.runDir, BIN_DIR, async (d: RunningDaemon) => {
      steps.push(d.name);
      const failed = (await lab.check()).filter((c) => !c.ok);
      assert.deepEqual(failed, [], `after ${d.name} was upgraded`);
      if (d.component !== 'agent') return;
      const node = lab.file.nodes.find((n) => n.netns === d.netns)?.name ?? assert.fail(`no node for ${d.netns}`);
      const pod = await lab.addPod({ namespace: 'default', name: `after-${node}`, node });
      await lab.exec(client.netns, 'ping', ['-c', '3', '-W', '2', pod.ip]);
      await lab.exec(pod.netns, 'ping', ['-c', '3', '-W', '2', remote.ip]);
    });
    assert.equal(steps[0], 'tessera-watcher', 'the watcher first');
    assert.ok(steps.slice(-2).every((s) => s === 'tessera-agent'), `the agents last, one at a time: ${steps.join(', ')}`);
    for (const d of upgraded) assert.ok(d.argv[0].startsWith(BIN_DIR), `${d.name} now runs ${d.argv[0]}`);

    await new Promise((r) => setTimeout(r, 1000));
    ping.kill('SIGINT');
    await new Promise((r) => ping?.once('exit', r));
    const m = /(\d+) packets transmitted, (\d+) received/.exec(pingOut) ?? assert.fail(`no ping summary: ${pingOut.slice(-300)}`);
    const [sent, got] = [Number(m[1]), Number(m[2])];
    assert.ok(sent > 50, `${sent} pings sent`);
    // The one in flight when ping stops may go unanswered; nothing else may be lost.
    assert.ok(got >= sent - 1, `${sent - got} of ${sent} pings lost during the upgrade`);
  });
});
