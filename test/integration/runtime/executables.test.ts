// The daemons in dist/bin (which the integration and end-to-end tests run) embed the Node runtime package.json
// pins, not the machine's node, once: their names link to one executable. Needs `make build`.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pinnedRuntimeVersion } from '../../../tools/runtime.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'dist', 'bin');
const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('dist/bin runtime', () => {
  const node = pinnedRuntimeVersion(ROOT);

  for (const exe of ['tessera-agent', 'tessera-watcher', 'tessera-gateway']) {
    it(`${exe} --version names the pinned Node ${node}`, () => {
      const out = execFileSync(join(BIN, exe), ['--version'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
      assert.equal(out, `${exe} ${version} (node v${node})\n`);
    });
  }

  it('the daemons are links to one executable, which also runs them as `tessera <daemon>`', () => {
    for (const exe of ['tessera-agent', 'tessera-watcher', 'tessera-gateway']) {
      assert.ok(lstatSync(join(BIN, exe)).isSymbolicLink(), exe);
      assert.equal(readlinkSync(join(BIN, exe)), 'tessera');
    }
    assert.equal(execFileSync(join(BIN, 'tessera'), ['gateway', '--version'], { encoding: 'utf8' }), `tessera-gateway ${version} (node v${node})\n`);
    const r = spawnSync(join(BIN, 'tessera'), [], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^tessera: run as tessera-agent, tessera-watcher, tessera-gateway/);
  });

  it('the pinned runtime is a supported LTS line (24)', () => {
    assert.equal(Number(node.split('.')[0]), 24);
  });
});
