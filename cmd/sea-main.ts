// The built tessera executable's entry (tools/build.ts): it compiles and runs only the chosen daemon's own bundle,
// embedded as an asset with its V8 code cache, so a daemon's process neither parses nor keeps the other commands'
// code (one script holding all of them cost the agent ~20 MB of memory: bench/agent).
import sea from 'node:sea';
import vm from 'node:vm';
import { dirname } from 'node:path';
import { daemonOf, usage, wrapBundle } from './daemons.js';

const name = daemonOf(process.argv0, process.argv);
if (!name) {
  process.stderr.write(usage());
  process.exit(2);
}
const source = Buffer.from(sea.getRawAsset(`${name}.cjs`)).toString('latin1');
const cachedData = Buffer.from(sea.getRawAsset(`${name}.cache`));
const script = new vm.Script(wrapBundle(source), { filename: `${name}.cjs`, cachedData });
const mod = { exports: {} };
try {
  // The bundles require only builtins (esbuild inlined the rest; koffi comes from an asset: lib/netdev/ffi.ts).
  (script.runInThisContext() as (...a: unknown[]) => void)(mod.exports, require, mod, process.execPath, dirname(process.execPath));
} catch (err) {
  process.stderr.write(`${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
