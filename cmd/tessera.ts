// tessera: the one executable behind tessera-agent, tessera-watcher, tessera-gateway, kubectl-tessera and
// tessera-openstack, which are links to it.
// It runs the daemon its name says (or `tessera <daemon> ...`), so a node or an image carries the Node runtime
// once instead of once per daemon (~130 MB each). This is the entry from source; the built executable's is
// cmd/sea-main.ts, which loads each daemon's own bundle.
import { DAEMON_ENTRIES, daemonOf, usage } from './daemons.js';

const name = daemonOf(process.argv0, process.argv);
if (name) {
  import(`../${DAEMON_ENTRIES[name].replace(/\.ts$/, '.js')}`).catch((err: unknown) => {
    process.stderr.write(`${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
} else {
  process.stderr.write(usage());
  process.exit(2);
}
