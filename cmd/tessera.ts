// tessera: the one executable behind tessera-agent, tessera-watcher, tessera-gateway, kubectl-tessera and
// tessera-openstack, which are links to it.
// It runs the daemon its name says (or `tessera <daemon> ...`), so a node or an image carries the Node runtime
// once instead of once per daemon (~130 MB each). This is the entry from source; the built executable's is
// cmd/sea-main.ts, which loads each daemon's own bundle.
import { daemonOf, usage, type DaemonName } from './daemons.js';

const DAEMONS: Record<DaemonName, () => Promise<unknown>> = {
  'tessera-agent': () => import('../agent/main.js'),
  'tessera-watcher': () => import('../watcher/main.js'),
  'tessera-gateway': () => import('../gateway/main.js'),
  'kubectl-tessera': () => import('../kubectl-tessera/main.js'),
  'tessera-openstack': () => import('../openstack/main.js'),
  // connectivity's test pods: `tessera probe serve|connect|idle` (kubectl-tessera/connectivity/probe-main.ts)
  'tessera-probe': () => import('../kubectl-tessera/connectivity/probe-main.js'),
};

const name = daemonOf(process.argv0, process.argv);
if (name) {
  DAEMONS[name]().catch((err: unknown) => {
    process.stderr.write(`${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
} else {
  process.stderr.write(usage());
  process.exit(2);
}
