import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tcpSeqCheckEnabled, vswitchdTarget } from '../../../agent/userspace-conntrack.js';

describe('agent: userspace conntrack TCP sequence check', () => {
  it('reads ovs-appctl dpctl/ct-get-tcp-seq-chk', () => {
    assert.equal(tcpSeqCheckEnabled('TCP sequence checking: enabled'), true);
    assert.equal(tcpSeqCheckEnabled('TCP sequence checking: disabled'), false);
  });

  it('finds ovs-vswitchd next to the OVS database socket: named socket, else <pid>.ctl, else the default', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-vsd-'));
    try {
      const db = `unix:${join(dir, 'db.sock')}`;
      assert.equal(vswitchdTarget(db), 'ovs-vswitchd');
      writeFileSync(join(dir, 'ovs-vswitchd.pid'), '4242\n');
      assert.equal(vswitchdTarget(db), 'ovs-vswitchd', 'a pidfile without its socket is not enough');
      writeFileSync(join(dir, 'ovs-vswitchd.4242.ctl'), '');
      assert.equal(vswitchdTarget(db), join(dir, 'ovs-vswitchd.4242.ctl'));
      writeFileSync(join(dir, 'ovs-vswitchd.ctl'), '');
      assert.equal(vswitchdTarget(db), join(dir, 'ovs-vswitchd.ctl'));
      assert.equal(vswitchdTarget('tcp:127.0.0.1:6640'), 'ovs-vswitchd');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
