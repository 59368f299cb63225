// The executables of an earlier version, for upgrade tests: the tree of a git ref (git archive, so the repository's
// worktrees and index stay untouched) built with that tree's own tools/build.ts into a cache dir keyed by commit.
import { existsSync, mkdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './exec.js';
import { REPO_ROOT } from './paths.js';

/** The ref an upgrade starts from: TESSERA_UPGRADE_FROM, else where HEAD left main, else HEAD's first parent. */
export async function previousRef(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (env.TESSERA_UPGRADE_FROM) return run('git', ['-C', REPO_ROOT, 'rev-parse', '--verify', `${env.TESSERA_UPGRADE_FROM}^{commit}`]);
  const head = await run('git', ['-C', REPO_ROOT, 'rev-parse', 'HEAD']);
  const base = await run('git', ['-C', REPO_ROOT, 'merge-base', 'HEAD', 'main']).catch(() => head);
  return base !== head ? base : run('git', ['-C', REPO_ROOT, 'rev-parse', 'HEAD^1']);
}

/** dist/bin of `commit`, built once into <cacheRoot>/<commit>/bin; returns that bin directory. */
export async function buildCommit(commit: string, cacheRoot: string, log: (m: string) => void = () => {}): Promise<string> {
  const bin = join(cacheRoot, commit, 'bin');
  if (['tessera-watcher', 'tessera-agent', 'tessera-gateway', 'tessera-cni'].every((b) => existsSync(join(bin, b)))) return bin;
  const src = join(cacheRoot, `${commit}.src`);
  rmSync(src, { recursive: true, force: true });
  mkdirSync(src, { recursive: true });
  log(`building ${commit.slice(0, 12)} in ${src}`);
  await run('git', ['-C', REPO_ROOT, 'archive', '--format=tar', '-o', join(cacheRoot, `${commit}.tar`), commit]);
  await run('tar', ['-xf', join(cacheRoot, `${commit}.tar`), '-C', src]);
  rmSync(join(cacheRoot, `${commit}.tar`));
  // The same installed packages and tools: this tree's (symlinked) node_modules and .tools.
  for (const d of ['node_modules', '.tools']) if (existsSync(join(REPO_ROOT, d))) symlinkSync(join(REPO_ROOT, d), join(src, d));
  await run(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), ['tools/build.ts'], { cwd: src, timeoutMs: 600_000 });
  mkdirSync(join(cacheRoot, commit), { recursive: true });
  renameSync(join(src, 'dist', 'bin'), bin);
  rmSync(src, { recursive: true, force: true });
  return bin;
}
