// The commands the tessera executable runs, and which one a command line asks for. No daemon code here: both
// cmd/tessera.ts (from source) and cmd/sea-main.ts (the built executable) choose with it.

/** Each command's entry module (source path from the repository root), which tools/build.ts bundles. */
export const DAEMON_ENTRIES = {
  'tessera-agent': 'agent/main.ts',
  'tessera-watcher': 'watcher/main.ts',
  'tessera-gateway': 'gateway/main.ts',
  'kubectl-tessera': 'kubectl-tessera/main.ts',
  'tessera-openstack': 'openstack/main.ts',
  // connectivity's test pods: `tessera probe serve|connect|idle`, with no link of its own
  'tessera-probe': 'kubectl-tessera/connectivity/probe-main.ts',
} as const;
export type DaemonName = keyof typeof DAEMON_ENTRIES;
export const DAEMON_NAMES = Object.keys(DAEMON_ENTRIES) as DaemonName[];
/** The commands dist/bin links to the executable under their own names. */
export const LINKED_DAEMONS = DAEMON_NAMES.filter((n) => n !== 'tessera-probe');

const isDaemon = (s: string): s is DaemonName => (DAEMON_NAMES as readonly string[]).includes(s);

/** The daemon to run: the name the executable was started under, else its first argument (removed from argv). */
export function daemonOf(argv0: string, argv: string[]): DaemonName | undefined {
  const own = argv0.slice(argv0.lastIndexOf('/') + 1);
  if (isDaemon(own)) return own;
  const sub = argv[2] === undefined ? undefined : argv[2].startsWith('tessera-') ? argv[2] : `tessera-${argv[2]}`;
  if (sub && isDaemon(sub)) {
    argv.splice(2, 1);
    return sub;
  }
  return undefined;
}

export function usage(): string {
  return `tessera: run as ${DAEMON_NAMES.join(', ')} (links to this executable), or as tessera <${DAEMON_NAMES.map((n) => n.slice('tessera-'.length)).join('|')}> [flags]\n`;
}

/**
 * How the built executable wraps each daemon's CommonJS bundle before compiling it (cmd/sea-main.ts), and how
 * tools/build.ts wraps it to make its code cache: the two must match byte for byte or V8 rejects the cache.
 */
export function wrapBundle(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
}
