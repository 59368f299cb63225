// kubectl-tessera's command line: global flags (kubeconfig conventions, lab, OVN endpoints) and per-command ones.
import { parseArgs } from 'node:util';
import { OVSDB_TLS_FLAGS } from '../lib/ovsdb-tls-flags.js';

const GLOBAL = {
  lab: { type: 'string' }, kubeconfig: { type: 'string' }, context: { type: 'string' }, namespace: { type: 'string', short: 'n' },
  nb: { type: 'string' }, sb: { type: 'string' }, 'watcher-metrics': { type: 'string' },
  ...Object.fromEntries(Object.keys(OVSDB_TLS_FLAGS).map((k) => [k, { type: 'string' }])),
  help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' },
} as const;
const LOCAL = {
  tcp: { type: 'boolean' }, udp: { type: 'boolean' }, icmp: { type: 'boolean' }, raw: { type: 'boolean' }, json: { type: 'boolean' },
  html: { type: 'string' }, 'keep-going': { type: 'boolean' }, image: { type: 'string' }, 'external-host': { type: 'string' },
} as const;
export const PASSTHROUGH = new Set(['nbctl', 'sbctl', 'vsctl']);

export type Values = Record<string, string | boolean | undefined>;

/** Splits argv: flags and positionals, except that after nbctl/sbctl/vsctl everything but leading global flags is passed on. */
/** Index of the first positional argument: not a flag, nor the value of a global string flag. */
function firstPositional(argv: string[]): number {
  const takesValue = (a: string): boolean => {
    const m = /^--([a-z-]+)$/.exec(a) ?? /^-([a-z])$/.exec(a);
    if (!m) return false;
    const spec = Object.entries(GLOBAL).find(([k, f]) => k === m[1] || ('short' in f && f.short === m[1]))?.[1];
    return spec?.type === 'string';
  };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('-')) {
      if (takesValue(argv[i])) i++;
      continue;
    }
    return i;
  }
  return -1;
}

export function parseCli(argv: string[]): { values: Values; command: string; args: string[] } {
  const cmdIdx = firstPositional(argv);
  if (cmdIdx >= 0 && PASSTHROUGH.has(argv[cmdIdx])) {
    const before = argv.slice(0, cmdIdx);
    let rest = argv.slice(cmdIdx + 1);
    const lead: string[] = [];
    while (rest.length && /^--(lab|kubeconfig|context|nb|sb|ovsdb-[a-z-]+)(=|$)/.test(rest[0])) {
      const n = rest[0].includes('=') ? 1 : 2;
      lead.push(...rest.slice(0, n));
      rest = rest.slice(n);
    }
    const p = parseArgs({ args: [...before, ...lead], options: GLOBAL, allowPositionals: false, strict: true });
    return { values: p.values as Values, command: argv[cmdIdx], args: rest };
  }
  const p = parseArgs({ args: argv, options: { ...GLOBAL, ...LOCAL }, allowPositionals: true, strict: true });
  const [command = '', ...args] = p.positionals;
  return { values: p.values as Values, command, args };
}

