// CLI for the Kubernetes API test double (lab and integration tests):
//   node --import tsx kube-double/main.ts --listen 127.0.0.1:0 --unix /tmp/api.sock --token-file PATH
// Prints "ready <url> ..." on stdout once every listener is up; exits 0 on SIGTERM/SIGINT.
import fs from 'node:fs';
import { ConfigError, parseCommand, runMain, type CommandSpec } from '../lib/cli.js';
import { startApiServer, type ListenAddress } from './server.js';
import { loadManifestFile } from './manifests.js';
import { serviceAccountUser, type UserInfo } from './rbac.js';

const SPEC: CommandSpec = {
  name: 'tessera-test-apiserver',
  summary: 'Kubernetes API test double (not a Kubernetes API server; see kube-double/README.md)',
  usage: 'node --import tsx kube-double/main.ts [--listen HOST:PORT]... [--unix PATH]... [flags]',
  flags: {
    listen: { type: 'string', multiple: true, help: 'TCP listener HOST:PORT (repeatable; port 0 picks a free port). Default 127.0.0.1:0 when no --unix' },
    unix: { type: 'string', multiple: true, help: 'also serve on this unix socket (repeatable)' },
    token: { type: 'string', help: 'bearer token required on every API request (none: no auth)' },
    'token-file': { type: 'string', help: 'file holding that token (keeps it off the command line)' },
    'bookmark-interval-ms': { type: 'string', default: '60000', help: 'interval of BOOKMARK events on watches with allowWatchBookmarks=true' },
    history: { type: 'string', default: '10000', help: 'watch events retained; older resourceVersions get 410 Gone' },
    'service-cidr': { type: 'string', default: '10.96.0.0/16', help: 'range service cluster IPs are allocated from' },
    'log-file': { type: 'string', help: 'append one line per request to this file' },
    'manifest-file': { type: 'string', multiple: true, help: 'create the objects of this YAML file at start, as the admin (repeatable; e.g. deploy/*/rbac.yaml)' },
    'kubelet-socket': { type: 'string', help: 'unix socket of the kubelet that pods/exec is proxied to (the lab kubelet)' },
    'service-account-token': { type: 'string', multiple: true, help: 'NAMESPACE/NAME=FILE: the token in FILE authenticates as that service account, authorized by RBAC (repeatable)' },
  },
};

function parseListen(v: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(v);
  if (!m) throw new ConfigError(`--listen "${v}": expected HOST:PORT`);
  const port = Number(m[3]);
  if (port > 65535) throw new ConfigError(`--listen "${v}": port must be 0..65535`);
  return { host: m[1] ?? m[2], port };
}

function readToken(flag: string, file: string): string {
  let token: string;
  try {
    token = fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`--${flag} ${file}: ${(err as Error).message}`);
  }
  if (!token) throw new ConfigError(`--${flag} ${file} is empty`);
  return token;
}

function serviceAccountTokens(values: string[]): Array<{ token: string; user: UserInfo }> {
  return values.map((v) => {
    const m = /^([a-z0-9-]+)\/([a-z0-9.-]+)=(.+)$/.exec(v);
    if (!m) throw new ConfigError(`--service-account-token "${v}": expected NAMESPACE/NAME=FILE`);
    return { token: readToken('service-account-token', m[3]), user: serviceAccountUser(m[1], m[2]) };
  });
}

function positiveInt(name: string, v: unknown): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`--${name} "${String(v)}": must be a positive integer`);
  return n;
}

runMain(SPEC.name, async () => {
  const { values } = parseCommand(SPEC, process.argv.slice(2));
  const listen = ((values.listen as string[] | undefined) ?? []).map(parseListen);
  const unix = (values.unix as string[] | undefined) ?? [];
  const logFile = values['log-file'] as string | undefined;
  const logStream = logFile ? fs.createWriteStream(logFile, { flags: 'a' }) : undefined;
  const tokenFile = values['token-file'] as string | undefined;
  let token = values.token as string | undefined;
  if (tokenFile) token = readToken('token-file', tokenFile);
  const identities = serviceAccountTokens((values['service-account-token'] as string[] | undefined) ?? []);
  const objects = ((values['manifest-file'] as string[] | undefined) ?? []).flatMap((f) => {
    try {
      return loadManifestFile(f);
    } catch (err) {
      throw new ConfigError(`--manifest-file ${f}: ${(err as Error).message}`);
    }
  });
  const server = await startApiServer({
    listen: listen.length || unix.length ? listen : undefined,
    unix,
    token,
    identities,
    objects,
    bookmarkIntervalMs: positiveInt('bookmark-interval-ms', values['bookmark-interval-ms']),
    historySize: positiveInt('history', values.history),
    serviceCidr: values['service-cidr'] as string,
    kubeletSocket: values['kubelet-socket'] as string | undefined,
    log: logStream ? (line) => logStream.write(`${new Date().toISOString()} ${line}\n`) : undefined,
  }).catch((err: NodeJS.ErrnoException) => {
    throw new ConfigError(`cannot listen: ${err.message}`);
  });
  const shutdown = (sig: string) => {
    logStream?.write(`${new Date().toISOString()} ${sig}: shutting down\n`);
    void server.close().then(() => {
      for (const p of unix) fs.rmSync(p, { force: true });
      if (logStream) logStream.end(() => process.exit(0));
      else process.exit(0);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.stdout.write(`ready ${[...server.urls, ...unix.map((p) => `unix:${p}`)].join(' ')}\n`);
});
