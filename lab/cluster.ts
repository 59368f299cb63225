// startLab(): brings up a whole lab cluster by running the steps of lab/steps.ts in order, and returns a handle
// whose stop() removes everything. Used by `make lab` (lab/main.ts) and by e2e tests.
import { existsSync, mkdirSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CNI_CACHE_RESULTS } from './cni.js';
import { stopDaemons } from './daemon.js';
import { labHandle, type Lab } from './handle.js';
import { DEFAULT_PREFIX, labSettings, newLabContext, type LabOptions, type LabSettings } from './lab-context.js';
import { writeLabFile } from './lab-file.js';
import { checkPrefix } from './naming.js';
import { delNetns, listNetns, netnsPids } from './netns.js';
import { CNITOOL, defaultStateDir } from './paths.js';
import { LAB_STEPS } from './steps.js';

export { DEFAULT_STATE_DIR, REPO_ROOT, defaultStateDir } from './paths.js';
export type { LabPodSpec } from './pods.js';
export type { Lab } from './handle.js';
export type { LabPod } from './pod-lifecycle.js';
export { CIDRS, DEFAULT_PREFIX, DEFAULT_SERVICES, POD_MTU, type LabNetwork, type LabOptions, type LabServiceSpec } from './lab-context.js';
export { defaultPods, labNames, nodeName, type LabNames } from './naming.js';

/**
 * Removes everything a lab with this prefix/state dir may have left, even after a crashed start: daemons
 * from its pidfiles, its netns (which takes their veths along), cnitool cache entries, the run dir and lab.json.
 * Returns leftover notes (processes still in a netns that the lab did not start) for the caller to report.
 */
export async function teardownLab(o: { prefix?: string; stateDir?: string } = {}): Promise<string[]> {
  const prefix = o.prefix ?? DEFAULT_PREFIX;
  checkPrefix(prefix);
  const stateDir = resolve(o.stateDir ?? defaultStateDir(prefix));
  const runDir = join(stateDir, 'run');
  const notes: string[] = [];
  await stopDaemons(runDir);
  for (const ns of (await listNetns()).filter((n) => n.startsWith(prefix))) {
    const pids = await netnsPids(ns).catch(() => []);
    if (pids.length) notes.push(`netns ${ns} still had processes the lab did not start: ${pids.join(' ')} (not killed)`);
    await delNetns(ns);
  }
  // <prefix>net-* of this lab, and <prefix><cluster>-net-* of the clusters of a multi-cluster lab under it.
  const cacheEntry = new RegExp(`^${prefix}([a-z0-9]+-)?net-`);
  if (existsSync(CNI_CACHE_RESULTS)) {
    for (const f of readdirSync(CNI_CACHE_RESULTS)) if (cacheEntry.test(f)) unlinkSync(join(CNI_CACHE_RESULTS, f));
  }
  rmSync(runDir, { recursive: true, force: true });
  rmSync(join(stateDir, 'lab.json'), { force: true });
  return notes;
}

function requireBuilt(s: LabSettings): void {
  const needed = [join(s.binDir, 'tessera-watcher'), join(s.binDir, 'tessera-agent'), join(s.binDir, 'tessera-cni'), CNITOOL];
  const missing = needed.filter((f) => !existsSync(f));
  if (missing.length) throw new Error(`lab: missing ${missing.join(', ')} (run make build; cnitool comes from tools/setup.sh)`);
}

export async function startLab(opts: LabOptions = {}): Promise<Lab> {
  const t0 = Date.now();
  const s = labSettings(opts);
  requireBuilt(s);
  for (const n of await teardownLab({ prefix: s.prefix, stateDir: s.stateDir })) s.log(`warning: ${n}`);
  mkdirSync(s.runDir, { recursive: true });
  const stop = async (): Promise<void> => {
    for (const n of await teardownLab({ prefix: s.prefix, stateDir: s.stateDir })) s.log(`warning: ${n}`);
  };
  const ctx = newLabContext(s);
  try {
    for (const step of LAB_STEPS) await step.run(ctx);
    const lab = labHandle(ctx, stop);
    writeLabFile(s.labFilePath, lab.file);
    s.log(`lab.json written (${s.labFilePath}) ${Date.now() - t0} ms after start`);
    return lab;
  } catch (err) {
    if (opts.keepOnFailure) {
      s.log(`lab start failed; left as is for inspection (logs under ${s.runDir})`);
    } else {
      s.log(`lab start failed, tearing down: ${(err as Error).message}`);
      await stop();
    }
    throw err;
  }
}
