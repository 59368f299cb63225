// `tessera probe` (what connectivity's test pods run): serve answers TCP and UDP on its port; connect exits 0 on a
// connection or a UDP answer, 1 with the reason otherwise, 2 on a usage error. Run as the multicall runs it.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';

const ENTRY = join(import.meta.dirname, '..', '..', '..', 'cmd', 'tessera.ts');
const probe = (args: string[]) => execa(process.execPath, ['--import', 'tsx', ENTRY, 'probe', ...args], { reject: false, timeout: 20_000 });

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('tessera probe', function () {
  this.timeout(60_000);
  let server: ResultPromise | undefined;
  after(() => void server?.kill('SIGTERM'));

  it('serve answers TCP and UDP; connect succeeds to it and fails with the reason elsewhere', async () => {
    const port = await freePort();
    server = execa(process.execPath, ['--import', 'tsx', ENTRY, 'probe', 'serve', '--port', String(port)], { reject: false });
    await new Promise<void>((resolve) => server?.stdout?.once('data', () => resolve()));
    const tcp = await probe(['connect', '127.0.0.1', String(port)]);
    assert.equal(tcp.exitCode, 0, tcp.stderr);
    assert.match(tcp.stdout, new RegExp(`^connected to 127\\.0\\.0\\.1:${port} from 127\\.0\\.0\\.1`));
    const udp = await probe(['connect', '127.0.0.1', String(port), '--udp']);
    assert.equal(udp.exitCode, 0, udp.stderr);
    assert.match(udp.stdout, /UDP answer from .*: tessera-probe /);
    server.kill('SIGTERM');
    await server;
    const refused = await probe(['connect', '127.0.0.1', String(port), '--timeout', '1']);
    assert.equal(refused.exitCode, 1);
    assert.match(refused.stderr, /^ECONNREFUSED: TCP 127\.0\.0\.1:/);
    const bad = await probe(['connect', '127.0.0.1', '0']);
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /port "0": must be 1\.\.65535/);
  });
});
