// The reference agent for bench/agent's memory figure: the tessera executable built, in a temporary directory, from
// the commit before the agent had its own Kubernetes client (it then reached the API through @kubernetes/client-node).
// BENCH_AGENT_REF names another commit; BENCH_AGENT_REF=none skips the reference.
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../lab/exec.js';
import { ROOT } from '../lib/harness.js';

/** The agent of this commit went to the API through client-node. */
export const CLIENT_NODE_AGENT = '2b792f9';

export interface ReferenceAgent {
  rev: string;
  /** dist/bin/tessera-agent of that commit (a link to its multicall executable). */
  exe: string;
  remove(): void;
}

/** Builds the reference executable (about 15 s); undefined when BENCH_AGENT_REF=none. */
export async function buildReferenceAgent(dir: string): Promise<ReferenceAgent | undefined> {
  const rev = process.env.BENCH_AGENT_REF ?? CLIENT_NODE_AGENT;
  if (rev === 'none') return undefined;
  const tree = join(dir, 'reference');
  mkdirSync(tree, { recursive: true });
  const tar = join(dir, 'reference.tar');
  await run('git', ['-C', ROOT, 'archive', '-o', tar, rev]);
  await run('tar', ['-xf', tar, '-C', tree]);
  rmSync(tar);
  symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'));
  await run(process.execPath, ['--import', 'tsx', join(tree, 'tools/build.ts'), 'tessera'], { cwd: tree, timeoutMs: 300_000 });
  return { rev, exe: join(tree, 'dist/bin/tessera-agent'), remove: () => rmSync(tree, { recursive: true, force: true }) };
}
