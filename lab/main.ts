// `make lab` / `make lab-down` / `make lab-status`: the local lab cluster for a user's demo.
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PREFIX, defaultStateDir, startLab, teardownLab } from './cluster.js';
import { livePids } from './daemon.js';
import { readLabFile } from './lab-file.js';
import { listNetns } from './netns.js';
import { formatReport, runChecks } from './report.js';

const log = (m: string): void => void process.stderr.write(`[lab ${new Date().toISOString().slice(11, 23)}] ${m}\n`);

const usage = 'usage: lab/main.ts up|down|status [--prefix tessera-] [--state-dir DIR (default .lab; /tmp/<prefix>lab for other prefixes)] [--nodes 2]';
let parsed;
try {
  parsed = parseArgs({ allowPositionals: true, options: { prefix: { type: 'string' }, 'state-dir': { type: 'string' }, nodes: { type: 'string' } } });
} catch (err) {
  process.stderr.write(`lab: ${(err as Error).message.split('\n')[0]}\n${usage}\n`);
  process.exit(2);
}
const prefix = parsed.values.prefix ?? DEFAULT_PREFIX;
const stateDir = resolve(parsed.values['state-dir'] ?? defaultStateDir(prefix));
const nodes = Number(parsed.values.nodes ?? 2);

async function up(): Promise<number> {
  const t0 = Date.now();
  const lab = await startLab({ prefix, stateDir, nodes, log, keepOnFailure: true });
  const checks = await lab.check();
  process.stdout.write(lab.report(checks, Date.now() - t0) + '\n');
  process.stdout.write(`Lab description: ${lab.labFilePath}. Try: ip netns exec ${lab.file.pods[0]?.netns ?? ''} nc -N ${lab.file.pods[1]?.ip ?? ''} 8080 </dev/null. Remove with: make lab-down\n`);
  return checks.every((c) => c.ok) ? 0 : 1;
}

async function down(): Promise<number> {
  const notes = await teardownLab({ prefix, stateDir });
  for (const n of notes) log(`warning: ${n}`);
  log('lab removed');
  return 0;
}

async function status(): Promise<number> {
  const lab = readLabFile(join(stateDir, 'lab.json'));
  const netns = (await listNetns()).filter((n) => n.startsWith(lab.prefix));
  const pids = livePids(join(stateDir, 'run'));
  log(`${netns.length} netns, ${pids.length} daemons alive`);
  const checks = await runChecks(lab, { servers: true });
  process.stdout.write(formatReport(lab, checks, undefined) + '\n');
  return checks.every((c) => c.ok) ? 0 : 1;
}

const cmd = parsed.positionals[0];
const actions: Record<string, () => Promise<number>> = { up, down, status };
const action = cmd ? actions[cmd] : undefined;
if (!action) {
  process.stderr.write(`lab: unknown command ${JSON.stringify(cmd ?? '')}\n${usage}\n`);
  process.exit(2);
}
action().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`lab ${cmd}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
