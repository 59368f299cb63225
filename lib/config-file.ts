// --config FILE: the cluster-wide settings (CIDRs, MTU, OVN remotes, OVSDB TLS files) written once, in one JSON
// file that every daemon reads (deploy/config/tessera-config.yaml mounts it), instead of the same flags repeated
// in every manifest. The file is checked by an ajv schema; its values become flags placed before the command
// line's, and a flag given on the command line wins, so the daemons' own validation sees one set of flags.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { ConfigError, type CommandSpec, type FlagSpec } from './cli.js';
import { LOG_FLAGS } from './log-settings.js';

export const CONFIG_FLAG: Record<string, FlagSpec> = {
  config: { type: 'string', help: 'JSON file with the cluster settings (deploy/config/tessera-config.yaml); command-line flags override it' },
};

export type Daemon = 'watcher' | 'agent' | 'gateway';
export const DAEMONS: readonly Daemon[] = ['watcher', 'agent', 'gateway'];

const CIDR = { type: 'string', minLength: 3, maxLength: 64, pattern: '^[0-9a-fA-F:.]+/[0-9]{1,3}$' };
const REMOTES = { type: 'string', minLength: 1, pattern: '^(unix:[^,]+|(tcp|ssl):[^,\\s]+)(,(unix:[^,]+|(tcp|ssl):[^,\\s]+))*$' };
const PATH = { type: 'string', minLength: 1, pattern: '^/' };
const FLAG_VALUE = { anyOf: [{ type: 'string' }, { type: 'boolean' }, { type: 'integer' }, { type: 'array', items: { type: 'string' } }] };
const DAEMON_SECTION = { type: 'object', propertyNames: { pattern: '^[a-z][a-z0-9-]*$' }, additionalProperties: FLAG_VALUE };

export const CONFIG_FILE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    cluster: {
      type: 'object',
      additionalProperties: false,
      properties: {
        clusterCIDR: CIDR,
        serviceCIDR: CIDR,
        joinCIDR: CIDR,
        nodeSubnetPrefix: { type: 'integer', minimum: 1, maximum: 127 },
        mtu: { type: 'integer', minimum: 576, maximum: 9000 },
      },
    },
    ovn: { type: 'object', additionalProperties: false, properties: { nb: REMOTES, sb: REMOTES } },
    ovsdbTls: {
      type: 'object',
      additionalProperties: false,
      required: ['privateKey', 'certificate', 'caCert'],
      properties: { privateKey: PATH, certificate: PATH, caCert: PATH },
    },
    // Per-daemon flags, by flag name without the dashes (e.g. "health-listen"); checked against that daemon's flags.
    watcher: DAEMON_SECTION,
    agent: DAEMON_SECTION,
    gateway: DAEMON_SECTION,
  },
} as const;

export interface ConfigFile {
  cluster?: { clusterCIDR?: string; serviceCIDR?: string; joinCIDR?: string; nodeSubnetPrefix?: number; mtu?: number };
  ovn?: { nb?: string; sb?: string };
  ovsdbTls?: { privateKey: string; certificate: string; caCert: string };
  watcher?: Record<string, FlagValue>;
  agent?: Record<string, FlagValue>;
  gateway?: Record<string, FlagValue>;
}
type FlagValue = string | boolean | number | string[];

/** Shared settings → the flag names that carry them; a daemon takes the ones its spec has. */
const SHARED_FLAGS: Array<[names: string[], get: (c: ConfigFile) => FlagValue | undefined]> = [
  [['cluster-cidr', 'cluster-ip-subnet'], (c) => c.cluster?.clusterCIDR],
  [['service-cidr'], (c) => c.cluster?.serviceCIDR],
  [['join-cidr'], (c) => c.cluster?.joinCIDR],
  [['node-subnet-prefix'], (c) => c.cluster?.nodeSubnetPrefix],
  [['mtu'], (c) => c.cluster?.mtu],
  [['nb'], (c) => c.ovn?.nb],
  [['sb'], (c) => c.ovn?.sb],
  [['ovsdb-private-key'], (c) => c.ovsdbTls?.privateKey],
  [['ovsdb-certificate'], (c) => c.ovsdbTls?.certificate],
  [['ovsdb-ca-cert'], (c) => c.ovsdbTls?.caCert],
];

let validate: ReturnType<Ajv['compile']> | undefined;

function describe(e: ErrorObject): string {
  const at = e.instancePath === '' ? 'the top level' : e.instancePath.slice(1).replace(/\//g, '.');
  if (e.keyword === 'additionalProperties') return `${at}: unknown key "${String((e.params as { additionalProperty: string }).additionalProperty)}"`;
  return `${at} ${e.message ?? 'is invalid'}`;
}

/** Parses and checks a config file's text; throws ConfigError naming the file and the first problem. */
export function parseConfigFile(text: string, source: string): ConfigFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`--config ${source}: not JSON (${(err as Error).message})`);
  }
  validate ??= new Ajv({ allErrors: false }).compile(CONFIG_FILE_SCHEMA);
  if (!validate(doc)) throw new ConfigError(`--config ${source}: ${describe(validate.errors![0])}`);
  return doc as ConfigFile;
}

/**
 * The flags a config file gives one daemon (shared settings it takes, then its own section), as name → value.
 * `known`: every flag of the daemon (all subcommands of the gateway); a section key outside it is an error, one
 * that only this subcommand lacks is left out. --log-level and --log-format, which every command takes, count too.
 */
export function configFlags(cfg: ConfigFile, daemon: Daemon, spec: CommandSpec, source = 'the config file', known: Record<string, FlagSpec> = spec.flags): Map<string, FlagValue> {
  const out = new Map<string, FlagValue>();
  for (const [names, get] of SHARED_FLAGS) {
    const v = get(cfg);
    const name = names.find((n) => n in spec.flags);
    if (v !== undefined && name) out.set(name, v);
  }
  const logFlags: Record<string, FlagSpec> = LOG_FLAGS;
  for (const [name, v] of Object.entries(cfg[daemon] ?? {})) {
    const f = known[name] ?? logFlags[name];
    if (!f || name === 'config') throw new ConfigError(`--config ${source}: ${daemon}.${name} is not a flag of ${spec.name}`);
    if (f.type === 'boolean' && typeof v !== 'boolean') throw new ConfigError(`--config ${source}: ${daemon}.${name} must be true or false`);
    if (f.type === 'string' && typeof v === 'boolean') throw new ConfigError(`--config ${source}: ${daemon}.${name} needs a value, not ${String(v)}`);
    if (Array.isArray(v) && !f.multiple) throw new ConfigError(`--config ${source}: ${daemon}.${name} takes one value, not a list`);
    if (name in spec.flags || name in logFlags) out.set(name, v);
  }
  return out;
}

function toArgs(flags: Map<string, FlagValue>): string[] {
  const args: string[] = [];
  for (const [name, v] of flags) {
    if (typeof v === 'boolean') {
      if (v) args.push(`--${name}`);
    } else for (const one of Array.isArray(v) ? v : [v]) args.push(`--${name}=${String(one)}`);
  }
  return args;
}

/** The flag names given in argv (up to `--`), and the value of --config. */
function scan(argv: string[]): { given: Set<string>; config?: string; helpOrVersion: boolean } {
  const given = new Set<string>();
  let config: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([^=]+)(=(.*))?$/s.exec(argv[i]);
    if (argv[i] === '--') break;
    if (!m) continue;
    given.add(m[1]);
    if (m[1] === 'config') config = m[2] !== undefined ? m[3] : argv[i + 1];
  }
  return { given, config, helpOrVersion: given.has('help') || given.has('version') };
}

/**
 * argv with the --config file's flags put first, leaving out those argv gives itself (a flag on the command
 * line overrides the file, repeatable ones too). Without --config, argv unchanged.
 */
export function withConfigFile(spec: CommandSpec, daemon: Daemon, argv: string[], known?: Record<string, FlagSpec>): string[] {
  const { given, config, helpOrVersion } = scan(argv);
  if (config === undefined || helpOrVersion) return argv;
  if (config === '') throw new ConfigError('--config needs a file');
  let text: string;
  try {
    text = readFileSync(config, 'utf8');
  } catch (err) {
    throw new ConfigError(`--config ${config}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const flags = configFlags(parseConfigFile(text, config), daemon, spec, config, known);
  for (const name of given) flags.delete(name);
  return [...toArgs(flags), ...argv];
}
