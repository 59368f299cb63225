// Where the lab finds the repo's pieces.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_STATE_DIR = join(REPO_ROOT, '.lab');
/** Built executables (make build): tessera-cni, tessera-agent, tessera-watcher, tessera-gateway. */
export const BIN_DIR = join(REPO_ROOT, 'dist', 'bin');
/** The reference CNI client, built by tools/build-cnitool.sh from Debian's packages. */
export const CNITOOL = join(REPO_ROOT, '.tools', 'bin', 'cnitool');
