// Where the lab finds the repo's pieces.
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** State dir of `make lab` (prefix "tessera-"). */
export const DEFAULT_STATE_DIR = join(REPO_ROOT, '.lab');
export const MAKE_LAB_PREFIX = 'tessera-';

/**
 * Default state dir for a prefix: .lab for `make lab`, /tmp/<prefix>lab for tests. Deterministic, so the next run
 * of a test that crashed finds (and cleans) its predecessor's pidfiles, and never touches the user's .lab.
 */
export function defaultStateDir(prefix: string): string {
  return prefix === MAKE_LAB_PREFIX ? DEFAULT_STATE_DIR : join(tmpdir(), `${prefix}lab`);
}
/** Built executables (make build): tessera-cni, tessera-agent, tessera-watcher, tessera-gateway. */
export const BIN_DIR = join(REPO_ROOT, 'dist', 'bin');
/** The reference CNI client, built by tools/build-cnitool.sh from Debian's packages. */
export const CNITOOL = join(REPO_ROOT, '.tools', 'bin', 'cnitool');
