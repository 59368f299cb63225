// The API token reaches the watcher only through --kube-token-file: not on its command line, and a rotated
// token (the kubelet swaps a projected token's file) is picked up while the old one is revoked.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { useWatcherFixture, TOKEN, WATCHER_USER, until } from './fixture.js';
import { writeTokenFile } from '../../../testkit/token-file.js';

describe('watcher: API token from a rotating file', function () {
  this.timeout(90000);
  const f = useWatcherFixture();

  const status = async (token: string): Promise<number> => (await fetch(`${f.api.url}/api/v1/nodes`, { headers: { Authorization: `Bearer ${token}` } })).status;

  it('keeps the token off its command line; the token file is 0600', async () => {
    const w = f.startWatcher();
    f.pod('default', 'p0', 'n1');
    await until(() => f.podNetwork('default', 'p0'), 30000, 'p0 annotated');
    const cmdline = readFileSync(`/proc/${w.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(cmdline.includes('--kube-token-file'), cmdline.join(' '));
    assert.ok(!cmdline.some((a) => a.includes(TOKEN)), `token on the command line: ${cmdline.join(' ')}`);
    assert.equal(statSync(f.tokenFile).mode & 0o777, 0o600);
  });

  it('annotates new pods after the token rotates and the old one is revoked', async () => {
    f.pod('default', 'p1', 'n1');
    await until(() => f.podNetwork('default', 'p1'), 30000, 'p1 annotated with the first token');
    writeTokenFile(f.tokenFile, 'rotated-token-2');
    f.api.setTokens(['rotated-token-2'], WATCHER_USER);
    assert.equal(await status(TOKEN), 401, 'the double refuses the revoked token');
    assert.equal(await status('rotated-token-2'), 200);
    for (const name of ['p2', 'p3', 'p4']) f.pod('default', name, 'n1');
    for (const name of ['p2', 'p3', 'p4']) await until(() => f.podNetwork('default', name), 15000, `${name} annotated after rotation`);
    assert.ok(f.procs[0].alive(), 'the watcher kept running');
    // A second rotation, with the stat interval certainly passed: the PATCH's 401 retry or the re-read serves it.
    writeTokenFile(f.tokenFile, 'rotated-token-3');
    f.api.setTokens(['rotated-token-3'], WATCHER_USER);
    f.pod('default', 'p5', 'n1');
    await until(() => f.podNetwork('default', 'p5'), 15000, 'p5 annotated after the second rotation');
    assert.doesNotMatch(f.procs[0].log(), /HTTP 401/, 'no annotation failed with 401');
  });
});
