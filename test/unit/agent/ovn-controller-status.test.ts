import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OvnControllerStatus } from '../../../agent/ovn-controller-status.js';

describe('agent OvnControllerStatus', () => {
  const rundir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-ovnc-'));
  after(() => fs.rmSync(rundir, { recursive: true, force: true }));

  it('names a missing pidfile, a non-connected or silent controller; caches each answer for the ttl', async () => {
    let answer: () => string = () => 'connected';
    const asked: string[] = [];
    let now = 0;
    const s = new OvnControllerStatus(rundir, 2000, async (ctl) => (asked.push(ctl), answer()), () => now);
    assert.match((await s.notReady())!, /^ovn-controller not running \(.*ovn-controller\.pid/);
    fs.writeFileSync(path.join(rundir, 'ovn-controller.pid'), '4242\n');
    assert.match((await s.notReady())!, /not running/, 'cached within the ttl');
    now += 2000;
    assert.equal(await s.notReady(), undefined);
    assert.deepEqual(asked, [path.join(rundir, 'ovn-controller.4242.ctl')]);
    answer = () => 'not connected';
    now += 2000;
    assert.equal(await s.notReady(), 'ovn-controller not connected to the Southbound database (not connected)');
    answer = () => {
      throw Object.assign(new Error('exit 1'), { stderr: 'ovs-appctl: cannot connect to "x.ctl" (Connection refused)' });
    };
    now += 2000;
    assert.match((await s.notReady())!, /^ovn-controller not answering on .*4242\.ctl \(ovs-appctl: cannot connect/);
    assert.equal(asked.length, 3);
  });

  it('runs one check for concurrent probes', async () => {
    let calls = 0;
    fs.writeFileSync(path.join(rundir, 'ovn-controller.pid'), '7\n');
    const s = new OvnControllerStatus(rundir, 2000, async () => (calls++, 'connected'));
    assert.deepEqual(await Promise.all([s.notReady(), s.notReady(), s.notReady()]), [undefined, undefined, undefined]);
    assert.equal(calls, 1);
  });
});
