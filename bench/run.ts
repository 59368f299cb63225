// Runs the benchmarks under bench/<name>/main.ts (all, or those named in BENCH=a,b), each in its own process,
// and says how long each took. bench/lib holds shared pieces, not a bench.
import { readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = resolve(import.meta.dirname);
const wanted = (process.env.BENCH ?? '').split(',').filter(Boolean);
const all = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'main.ts')))
  .map((d) => d.name);
const unknown = wanted.filter((n) => !all.includes(n));
if (unknown.length) {
  process.stderr.write(`bench: no bench named ${unknown.join(', ')} (there are: ${all.join(', ')})\n`);
  process.exit(2);
}
const names = all.filter((n) => wanted.length === 0 || wanted.includes(n));
let failed = 0;
for (const n of names) {
  process.stdout.write(`\n=== bench/${n}\n`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, n, 'main.ts')], { stdio: 'inherit' });
  process.stdout.write(`=== bench/${n}: ${r.status === 0 ? 'done' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
