// Flag parsing shared by the daemons: --help, --version, and one-line config errors.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { VERSION, versionLine } from './version.js';
import { applyLogFlags, LOG_FLAGS } from './log-settings.js';

export class ConfigError extends Error {}

export interface FlagSpec {
  type: 'string' | 'boolean';
  help: string;
  default?: string | boolean;
  multiple?: boolean;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  flags: Record<string, FlagSpec>;
  /** Positional arguments are allowed (subcommands). */
  positionals?: boolean;
}

export interface ParsedCommand {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function helpText(spec: CommandSpec): string {
  const rows = Object.entries({ ...spec.flags, ...LOG_FLAGS } as Record<string, FlagSpec>).map(([name, f]) => {
    const arg = f.type === 'string' ? ` <value>` : '';
    const def = f.default !== undefined && f.default !== false ? ` (default ${String(f.default)})` : '';
    return `  --${name}${arg}\n      ${f.help}${def}`;
  });
  return [
    `${spec.name} ${VERSION}: ${spec.summary}`,
    '',
    `Usage: ${spec.usage}`,
    '',
    'Flags:',
    ...rows,
    '  --help\n      print this help',
    '  --version\n      print the version',
    '',
  ].join('\n');
}

/** Flags no command takes, with the reason: a secret on the command line is readable by every local user in /proc/PID/cmdline. */
const REFUSED_FLAGS: Record<string, string> = {
  'kube-token': '--kube-token is not accepted (any local user can read a command line): put the token in a file (mode 0600) and pass --kube-token-file PATH',
};

function refuseFlags(argv: string[]): void {
  for (const arg of argv) {
    if (arg === '--') return;
    const m = /^--([^=]+)/.exec(arg);
    const why = m ? REFUSED_FLAGS[m[1]] : undefined;
    if (why) throw new ConfigError(why);
  }
}

/** Parses argv; prints help/version and exits, or throws ConfigError naming the bad flag. */
export function parseCommand(spec: CommandSpec, argv: string[]): ParsedCommand {
  refuseFlags(argv);
  const options: NonNullable<ParseArgsConfig['options']> = {
    help: { type: 'boolean' },
    version: { type: 'boolean' },
    'log-level': { type: 'string' },
    'log-format': { type: 'string' },
  };
  for (const [name, f] of Object.entries(spec.flags)) {
    options[name] = { type: f.type, multiple: f.multiple ?? false };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: spec.positionals ?? false, strict: true });
  } catch (err) {
    throw new ConfigError((err as Error).message.split('\n')[0]);
  }
  if (parsed.values.help) {
    process.stdout.write(helpText(spec));
    process.exit(0);
  }
  if (parsed.values.version) {
    process.stdout.write(versionLine(spec.name));
    process.exit(0);
  }
  const logError = applyLogFlags(parsed.values);
  if (logError) throw new ConfigError(logError);
  const values: ParsedCommand['values'] = {};
  for (const [name, f] of Object.entries(spec.flags)) {
    const v = (parsed.values as Record<string, string | boolean | string[] | undefined>)[name];
    values[name] = v ?? f.default;
  }
  return { values, positionals: parsed.positionals };
}

/** Runs a daemon main: a ConfigError becomes one line on stderr and exit 2. */
export function runMain(name: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`${name}: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}

export function requireString(values: ParsedCommand['values'], name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new ConfigError(`--${name} is required`);
  return v;
}
