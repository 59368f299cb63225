// The NB contents `make lab` produces (policy and a gateway on every node, prefix tle-gd-), normalized
// (test/e2e/nb-dump.ts) and compared with test/e2e/golden/nb-lab.txt, so that a change to any NB writer shows up as
// a reviewed diff of that file. TESSERA_UPDATE_GOLDEN=1 rewrites the file from this run instead of comparing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CIDRS, startLab, teardownLab, type Lab } from '../../lab/cluster.js';
import { DEFAULT_POLICY } from '../../lab/policy.js';
import { POD_SERVER_PORT } from '../../lab/report.js';
import { nbSnapshot } from './nb-dump.js';

const exec = promisify(execFile);
const PREFIX = 'tle-gd-';
const GOLDEN = join(import.meta.dirname, 'golden', 'nb-lab.txt');

/** The snapshot once two taken a second apart agree (the gateways and controllers have settled). */
async function settledSnapshot(remote: string, timeoutMs = 60_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  let last = await nbSnapshot(remote);
  for (;;) {
    await new Promise((r) => setTimeout(r, 1500));
    const now = await nbSnapshot(remote);
    if (now === last) return now;
    if (Date.now() > until) throw new Error('NB did not settle within 60 s');
    last = now;
  }
}

async function unifiedDiff(want: string, got: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'nb-golden-'));
  try {
    writeFileSync(join(dir, 'expected'), want);
    writeFileSync(join(dir, 'actual'), got);
    // diff exits 1 when the files differ; its output is what we want then.
    return await exec('diff', ['-u', join(dir, 'expected'), join(dir, 'actual')]).then((r) => r.stdout, (e: { stdout?: string }) => e.stdout ?? String(e));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('NB contents of make lab against test/e2e/golden/nb-lab.txt (e2e, prefix tle-gd-)', function () {
  this.timeout(240_000);
  let lab: Lab;

  before(async () => {
    lab = await startLab({ prefix: PREFIX, nodes: 2, gateway: true, policies: [DEFAULT_POLICY(POD_SERVER_PORT, [CIDRS.join])] });
  });
  after(async () => {
    await teardownLab({ prefix: PREFIX });
  });

  it('the normalized NB dump equals the golden file', async () => {
    const got = await settledSnapshot(`unix:${lab.file.nb.unixSocket}`);
    if (process.env.TESSERA_UPDATE_GOLDEN === '1') {
      writeFileSync(GOLDEN, got);
      return;
    }
    const want = readFileSync(GOLDEN, 'utf8');
    if (got !== want) {
      assert.fail(`NB differs from ${GOLDEN} (- expected, + actual); if the change is deliberate, rerun with TESSERA_UPDATE_GOLDEN=1, ` +
        `review the diff and list it in lib/ovn/README.md:\n${await unifiedDiff(want, got)}`);
    }
  });
});
