// Runs the benchmarks under bench/<name>/main.ts (all, or those named in BENCH=a,b).
import { readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = resolve(import.meta.dirname);
const wanted = (process.env.BENCH ?? '').split(',').filter(Boolean);
const names = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'main.ts')))
  .map((d) => d.name)
  .filter((n) => wanted.length === 0 || wanted.includes(n));
let failed = 0;
for (const n of names) {
  process.stdout.write(`\n=== bench/${n}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, n, 'main.ts')], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
