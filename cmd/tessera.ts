// tessera: the one executable behind tessera-agent, tessera-watcher, tessera-gateway, kubectl-tessera and
// tessera-openstack, which are links to it.
// It runs the daemon its name says (or `tessera <daemon> ...`), so a node or an image carries the Node runtime
// once instead of once per daemon (~130 MB each).
import { basename } from 'node:path';

const DAEMONS: Record<string, () => Promise<unknown>> = {
  'tessera-agent': () => import('../agent/main.js'),
  'tessera-watcher': () => import('../watcher/main.js'),
  'tessera-gateway': () => import('../gateway/main.js'),
  'kubectl-tessera': () => import('../kubectl-tessera/main.js'),
  'tessera-openstack': () => import('../openstack/main.js'),
  // connectivity's test pods: `tessera probe serve|connect|idle` (kubectl-tessera/connectivity/probe-main.ts)
  'tessera-probe': () => import('../kubectl-tessera/connectivity/probe-main.js'),
};

/** The daemon to run: the name the executable was started under, else its first argument (removed from argv). */
function daemonOf(argv0: string, argv: string[]): string | undefined {
  const own = basename(argv0);
  if (DAEMONS[own]) return own;
  const sub = argv[2] === undefined ? undefined : argv[2].startsWith('tessera-') ? argv[2] : `tessera-${argv[2]}`;
  if (sub && DAEMONS[sub]) {
    argv.splice(2, 1);
    return sub;
  }
  return undefined;
}

const DAEMON_NAMES = Object.keys(DAEMONS);

const name = daemonOf(process.argv0, process.argv);
if (name) {
  DAEMONS[name]!().catch((err: unknown) => {
    process.stderr.write(`${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
} else {
  process.stderr.write(`tessera: run as ${DAEMON_NAMES.join(', ')} (links to this executable), or as tessera <${DAEMON_NAMES.map((n) => n.slice('tessera-'.length)).join('|')}> [flags]\n`);
  process.exit(2);
}
