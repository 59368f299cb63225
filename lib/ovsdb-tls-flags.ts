// The OVSDB SSL flags every Tessera daemon takes (--ovsdb-private-key, --ovsdb-certificate, --ovsdb-ca-cert: the
// files OVS's own -p/-c/-C name) and their checks: the three go together, and an ssl: remote without them is a
// one-line config error instead of a connect loop that never succeeds.
import { accessSync, constants } from 'node:fs';
import { ConfigError, type FlagSpec, type ParsedCommand } from './cli.js';
import type { TlsOptions } from './ovsdb/remote.js';

export const TLS_FLAG = { key: 'ovsdb-private-key', cert: 'ovsdb-certificate', ca: 'ovsdb-ca-cert' } as const;

export const OVSDB_TLS_FLAGS: Record<string, FlagSpec> = {
  [TLS_FLAG.key]: { type: 'string', help: 'PEM private key for ssl: OVSDB remotes (like ovsdb-server --private-key)' },
  [TLS_FLAG.cert]: { type: 'string', help: 'PEM certificate for that key, signed by the OVSDB CA (--certificate)' },
  [TLS_FLAG.ca]: { type: 'string', help: 'PEM CA certificate the OVSDB servers must be signed by (--ca-cert)' },
};

const ALL = `--${TLS_FLAG.key}, --${TLS_FLAG.cert} and --${TLS_FLAG.ca}`;

/**
 * The TLS files from the flags, or undefined when none is given. `remotes` are the remote lists by flag name
 * (e.g. [['nb', [...]], ['sb', [...]]]); an ssl: one among them needs all three files.
 */
export function parseOvsdbTls(values: ParsedCommand['values'], remotes: Array<[flag: string, list: readonly string[] | undefined]>): TlsOptions | undefined {
  const get = (flag: string): string | undefined => {
    const v = values[flag];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const files = { key: get(TLS_FLAG.key), cert: get(TLS_FLAG.cert), ca: get(TLS_FLAG.ca) };
  const given = Object.entries(files).filter(([, v]) => v !== undefined);
  if (given.length === 0) {
    for (const [flag, list] of remotes) {
      const ssl = list?.find((r) => r.trim().startsWith('ssl:'));
      if (ssl) throw new ConfigError(`--${flag}: ${ssl} needs ${ALL}`);
    }
    return undefined;
  }
  if (given.length < 3) {
    const missing = (Object.keys(files) as Array<keyof typeof files>).filter((k) => files[k] === undefined).map((k) => `--${TLS_FLAG[k]}`);
    throw new ConfigError(`${ALL} go together: ${missing.join(' and ')} missing`);
  }
  for (const k of ['key', 'cert', 'ca'] as const) {
    try {
      accessSync(files[k]!, constants.R_OK);
    } catch (err) {
      throw new ConfigError(`--${TLS_FLAG[k]} ${files[k]!}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  return { key: files.key!, cert: files.cert!, ca: files.ca! };
}

/** The same files as OVN daemons' flags (ovn-ic, ovn-nbctl): --private-key, --certificate, --ca-cert. */
export function ovnTlsArgs(tls: TlsOptions | undefined): string[] {
  return tls ? [`--private-key=${tls.key}`, `--certificate=${tls.cert}`, `--ca-cert=${tls.ca}`] : [];
}
