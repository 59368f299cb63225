// /readyz tells the truth: the leader is not ready while its Northbound database is down.
import assert from 'node:assert/strict';
import { freePort } from '../../../testkit/ovsdb-server.js';
import { useWatcherFixture, until } from './fixture.js';

describe('watcher: /readyz follows the NB connection', function () {
  this.timeout(90000);
  const f = useWatcherFixture();

  it('is 503 naming NB within seconds of the NB server stopping, and 200 once it is back', async () => {
    const port = await freePort();
    f.startWatcher(['--no-leader-election', '--health-listen', `127.0.0.1:${port}`]);
    const readyz = async (): Promise<{ code: number; body: { ready: boolean; reason?: string } } | undefined> => {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) });
        return { code: r.status, body: (await r.json()) as { ready: boolean; reason?: string } };
      } catch {
        return undefined;
      }
    };
    await until(async () => (await readyz())?.code === 200, 30000, 'ready');
    await f.nbServer.stop();
    const down = await until(async () => {
      const r = await readyz();
      return r?.code === 503 && r;
    }, 5000, '/readyz 503 after NB stopped');
    assert.equal(down.body.reason, 'OVN Northbound database not connected');
    await f.nbServer.start();
    await until(async () => (await readyz())?.code === 200, 15000, '/readyz 200 after NB is back');
    // And it still does its job.
    f.pod('default', 'after-nb', 'n1');
    await until(() => f.podNetwork('default', 'after-nb'), 20000, 'pod annotated after NB came back');
  });
});
