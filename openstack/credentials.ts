// Where tessera-openstack takes its Neutron credentials from: an env file (--credentials-file, an openrc's
// KEY=VALUE lines) or the OS_* environment, parsed by the same code as a Kubernetes Secret's keys. Never a flag,
// so a password shows up neither in `ps` nor in shell history.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../lib/cli.js';
import type { NeutronClientOptions } from '../lib/neutron/client.js';
import { CredentialsError, neutronOptionsFromSecret } from '../lib/neutron/credentials.js';

/**
 * KEY=VALUE lines: `#` comments, blank lines, an optional `export `, values optionally in '…' or "…". Shell
 * expansion ($VAR, `cmd`) is refused rather than passed on literally. Errors give the line number, never the line.
 */
export function parseEnvFile(text: string, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new ConfigError(`${name}:${i + 1}: not a KEY=VALUE line`);
    const [, key, rawValue] = m as unknown as [string, string, string];
    const single = /^'(.*)'$/.exec(rawValue);
    const value = single?.[1] ?? /^"(.*)"$/.exec(rawValue)?.[1] ?? rawValue;
    // As in a shell, only single quotes keep $ and ` literal.
    if (!single && /[$`]/.test(value)) throw new ConfigError(`${name}:${i + 1}: ${key} uses shell expansion ($ or \`); quote the value in '…'`);
    out[key] = value;
  });
  return out;
}

/** The OS_* keys from the file, else from `env`; OS_CACERT may be a path there (as in an openrc) or PEM text. */
export function credentialsData(file: string | undefined, env: NodeJS.ProcessEnv): Record<string, string> {
  let data: Record<string, string>;
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`--credentials-file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    data = parseEnvFile(text, file);
  } else {
    data = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[0].startsWith('OS_') && e[1] !== undefined));
  }
  if (!Object.keys(data).some((k) => k.startsWith('OS_'))) {
    throw new ConfigError('no Neutron credentials: give --credentials-file FILE or set OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, ' +
      'OS_PROJECT_NAME (or OS_AUTH_TYPE=noauth, OS_ENDPOINT, OS_PROJECT_ID)');
  }
  const ca = data['OS_CACERT'];
  if (ca && !ca.trimStart().startsWith('-----BEGIN')) {
    try {
      data['OS_CACERT'] = readFileSync(ca, 'utf8');
    } catch (e) {
      throw new ConfigError(`OS_CACERT ${ca}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  return data;
}

export function neutronOptions(file: string | undefined, env: NodeJS.ProcessEnv): NeutronClientOptions {
  try {
    return neutronOptionsFromSecret(credentialsData(file, env));
  } catch (e) {
    if (e instanceof CredentialsError) throw new ConfigError(e.message);
    throw e;
  }
}
