// The built executable's entry (cmd/sea-main.ts) picks the daemon by the name it runs under or its first argument,
// and holds none of the daemons' code itself: each daemon's bundle is an asset that only its own process compiles.
import assert from 'node:assert/strict';
import path from 'node:path';
import vm from 'node:vm';
import { build } from 'esbuild';
import { daemonOf, wrapBundle } from '../../../cmd/daemons.js';

describe('cmd/sea-main', () => {
  it('picks the daemon by the link name, else by the first argument, which it removes', () => {
    const argv = (...a: string[]) => ['/usr/local/bin/tessera', '/usr/local/bin/tessera', ...a];
    assert.equal(daemonOf('/usr/local/bin/tessera-agent', argv('--node-name', 'n')), 'tessera-agent');
    const a = argv('probe', 'serve');
    assert.equal(daemonOf('tessera', a), 'tessera-probe');
    assert.deepEqual(a.slice(2), ['serve']);
    assert.equal(daemonOf('tessera', argv('tessera-watcher')), 'tessera-watcher');
    assert.equal(daemonOf('tessera', argv('nope')), undefined);
    assert.equal(daemonOf('tessera', argv()), undefined);
  });

  it('bundles no daemon code', async function () {
    this.timeout(60000);
    const root = path.resolve(import.meta.dirname, '../../..');
    const r = await build({ entryPoints: [path.join(root, 'cmd/sea-main.ts')], bundle: true, write: false, metafile: true, platform: 'node', format: 'cjs', logLevel: 'silent' });
    assert.deepEqual(Object.keys(r.metafile.inputs).filter((i) => !i.startsWith('cmd/')), []);
  });

  it('wraps a bundle as a CommonJS module function', () => {
    const fn = new vm.Script(wrapBundle('module.exports = [typeof require, __filename, __dirname, exports === module.exports];')).runInThisContext() as (...a: unknown[]) => void;
    const mod = { exports: {} };
    fn(mod.exports, require, mod, '/x/tessera', '/x');
    assert.deepEqual(mod.exports, ['function', '/x/tessera', '/x', true]);
  });
});
