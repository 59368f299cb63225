// A real Neutron server (Debian's neutron-server, ML2/OVN, noauth) as a lab component: MariaDB and neutron-server
// run inside the lab's own netns, listen on its loopback (or an underlay IP), and write into whichever OVN NB/SB
// they are pointed at. The lab reaches the API through a unix socket that socat forwards into the netns.
import { chownSync, cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NeutronApiError, NeutronClient } from '../../lib/neutron/client.js';
import type { TlsOptions } from '../../lib/ovsdb/remote.js';
import { spawnDaemon, stopDaemons } from '../daemon.js';
import { run } from '../exec.js';
import { addNetns, delNetns } from '../netns.js';
import { startCentral, type Central } from '../ovn-central.js';
import { REPO_ROOT } from '../paths.js';
import { ovsTlsArgs } from '../pki.js';
import { LabNeutronClient } from './neutron-log.js';
import { ml2Conf, neutronConf, type NeutronConfigInput, type NeutronKeystoneAuth } from './neutron-config.js';

export const NEUTRON_PORT = 9696;
const DB_PORT = 3306;
const DB_URL = `mysql+pymysql://neutron:labpass@127.0.0.1:${DB_PORT}/neutron`;
/** The project every lab request acts as (noauth takes it from X-Project-Id). */
export const LAB_PROJECT = 'tessera-lab';

export interface NeutronOptions {
  dir: string;
  netns: string;
  /** Address neutron-server binds inside the netns; 127.0.0.1 unless other hosts must reach it. */
  bindHost?: string;
  nb: string;
  sb: string;
  tls?: TlsOptions;
  syncMode?: NeutronConfigInput['syncMode'];
  keystone?: NeutronKeystoneAuth;
}

export interface Neutron {
  dir: string;
  netns: string;
  /** URL inside the netns (or from the underlay when bound to an underlay IP). */
  url: string;
  /** Unix socket that reaches the API from any netns. */
  socket: string;
  configFiles: string[];
  /** The NB it writes into, when the lab knows it: a start then also waits for the ML2/OVN driver's own rows. */
  ovnNb?: { remote: string; tls?: TlsOptions };
}

/** A noauth client; given the server's `dir`, its 5xx errors carry what neutron-server logged. */
export function neutronClient(n: Pick<Neutron, 'url' | 'socket'> & { dir?: string }, projectId = LAB_PROJECT): NeutronClient {
  const o = { url: n.url, socketPath: n.socket, auth: { kind: 'noauth', projectId } as const };
  return n.dir === undefined ? new NeutronClient(o) : new LabNeutronClient(o, join(n.dir, 'neutron.log'));
}

/** Starts MariaDB (from a migrated template), neutron-server and the socket forwarder; resolves once the API answers. */
export async function startNeutron(o: NeutronOptions): Promise<Neutron> {
  const bindHost = o.bindHost ?? '127.0.0.1';
  for (const d of ['state', 'lock', 'mrun']) mkdirSync(join(o.dir, d), { recursive: true });
  const template = await migratedDbTemplate();
  rmSync(join(o.dir, 'mysql'), { recursive: true, force: true });
  cpSync(template, join(o.dir, 'mysql'), { recursive: true, preserveTimestamps: true });
  await chownMysql(o.dir);
  await startMariadb(o.dir, o.netns);
  const configFiles = writeConfig({ dir: o.dir, bindHost, port: NEUTRON_PORT, dbUrl: DB_URL, nb: o.nb, sb: o.sb, tls: o.tls, syncMode: o.syncMode, keystone: o.keystone }, join(o.dir, 'server'));
  const socket = join(o.dir, 'neutron.sock');
  rmSync(socket, { force: true });
  mkdirSync(join(o.dir, 'fwd'), { recursive: true });
  spawnDaemon({
    dir: join(o.dir, 'fwd'), name: 'neutron-forward', netns: o.netns, cmd: 'socat',
    args: [`UNIX-LISTEN:${socket},fork,mode=600`, `TCP:${bindHost}:${NEUTRON_PORT}`],
  });
  const n: Neutron = { dir: o.dir, netns: o.netns, url: `http://${bindHost}:${NEUTRON_PORT}`, socket, configFiles, ovnNb: { remote: o.nb, tls: o.tls } };
  await startNeutronServer(n);
  return n;
}

/** A fresh `dir` and netns holding an OVN central and a Neutron that writes into its NB/SB (the integration tests'). */
export async function startNeutronWithCentral(dir: string, netns: string): Promise<{ central: Central; neutron: Neutron }> {
  await delNetns(netns);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await addNetns(netns);
  const central = await startCentral({ dir: join(dir, 'central'), netns, ip: '127.0.0.1' });
  const neutron = await startNeutron({ dir: join(dir, 'neutron'), netns, nb: `unix:${central.nbSocket}`, sb: `unix:${central.sbSocket}` });
  return { central, neutron };
}

/** Stops every process the component started (the server's workers with it), clients before the database. */
export async function stopNeutron(dir: string): Promise<void> {
  await stopDaemons(join(dir, 'fwd'));
  await stopDaemons(join(dir, 'server'));
  await stopDaemons(dir);
}

/** Stops only neutron-server and its workers (MariaDB and NB stay), as `systemctl stop neutron-server` would. */
export async function stopNeutronServer(n: Pick<Neutron, 'dir'>): Promise<void> {
  await stopDaemons(join(n.dir, 'server'));
}

/** Starts neutron-server again on the existing database and configuration; resolves once the API answers. */
export async function startNeutronServer(n: Neutron): Promise<void> {
  mkdirSync(join(n.dir, 'server'), { recursive: true });
  spawnDaemon({ dir: join(n.dir, 'server'), name: 'neutron-server', netns: n.netns, cmd: 'neutron-server', args: configArgs(n.configFiles) });
  await waitForApi(n, 90_000);
  if (n.ovnNb) await waitForDropPortGroup(n, n.ovnNb, 90_000);
}

/**
 * The API answers before ML2/OVN is ready: neutron-server creates the `neutron_pg_drop` Port_Group only when it
 * spawns its RPC and maintenance workers, seconds after the API worker listens, and until then every port with port
 * security fails with a 500 ("Port group neutron_pg_drop does not exist").
 */
async function waitForDropPortGroup(n: Neutron, nb: NonNullable<Neutron['ovnNb']>, timeoutMs: number): Promise<void> {
  const args = [`--db=${nb.remote}`, ...ovsTlsArgs(nb.tls), '--timeout=5', '--bare', '--columns=name', 'find', 'Port_Group', `name=${DROP_PORT_GROUP}`];
  const ok = await waitFor(async () => (await run('ovn-nbctl', args, { netns: n.netns }).catch(() => '')).trim() === DROP_PORT_GROUP,
    timeoutMs, `${DROP_PORT_GROUP} in NB`, false);
  if (!ok) throw new Error(`neutron-server made no ${DROP_PORT_GROUP} Port_Group in ${nb.remote} within ${timeoutMs} ms; see ${join(n.dir, 'neutron.log')}`);
}
const DROP_PORT_GROUP = 'neutron_pg_drop';

export const configArgs = (files: string[]): string[] => files.flatMap((f) => ['--config-file', f]);

/**
 * Writes the two config files into `confDir`. neutron-server's setproctitle overwrites its environment, so the
 * config paths on its command line are what ties it (and its workers) to the daemon dir teardown scans.
 */
function writeConfig(c: NeutronConfigInput, confDir: string): string[] {
  mkdirSync(confDir, { recursive: true });
  const files = [join(confDir, 'neutron.conf'), join(confDir, 'ml2_conf.ini')];
  writeFileSync(files[0]!, neutronConf(c));
  writeFileSync(files[1]!, ml2Conf(c));
  return files;
}

export async function chownMysql(dir: string): Promise<void> {
  const uid = Number(await run('id', ['-u', 'mysql']));
  const gid = Number(await run('id', ['-g', 'mysql']));
  for (const d of ['mysql', 'mrun']) chownTree(join(dir, d), uid, gid);
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  // cpSync keeps modes, not owners: every file MariaDB opens must be the mysql user's.
  for (const e of readdirRecursive(path)) chownSync(e, uid, gid);
}

function readdirRecursive(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSyncTyped(dir)) {
    const p = join(dir, e.name);
    out.push(p);
    if (e.isDirectory()) out.push(...readdirRecursive(p));
  }
  return out;
}

const readdirSyncTyped = (d: string) => readdirSync(d, { withFileTypes: true });

export async function startMariadb(dir: string, netns: string): Promise<void> {
  spawnDaemon({
    dir, name: 'mariadb', netns, cmd: 'mariadbd',
    args: ['--user=mysql', `--datadir=${join(dir, 'mysql')}`, '--bind-address=127.0.0.1', `--port=${DB_PORT}`,
      `--socket=${join(dir, 'mrun', 'mysql.sock')}`, '--skip-name-resolve', '--skip-log-bin'],
  });
  await waitFor(() => existsSync(join(dir, 'mrun', 'mysql.sock')), 30_000, 'MariaDB socket');
}

async function waitForApi(n: Neutron, timeoutMs: number): Promise<void> {
  const c = neutronClient(n);
  let last = '';
  const ok = await waitFor(async () => {
    try {
      await c.listNetworks();
      return true;
    } catch (e) {
      // With Keystone auth, a 401 to the noauth probe means the API is up.
      if (e instanceof NeutronApiError && e.status === 401) return true;
      last = (e as Error).message;
      return false;
    }
  }, timeoutMs, 'neutron-server API', false);
  if (!ok) throw new Error(`neutron-server did not answer within ${timeoutMs} ms (${last}); see ${join(n.dir, 'neutron.log')}`);
}

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string, fail = true): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  if (fail) throw new Error(`${what}: not ready within ${timeoutMs} ms`);
  return false;
}

/**
 * A MariaDB data dir with Neutron's schema migrated, made once per neutron-server version (migrations take about a
 * minute) and copied for every lab.
 */
function migratedDbTemplate(): Promise<string> {
  return migratedMariadbTemplate('neutron-server', 'neutron', 'tessera-neudb', async (work, netns) => {
    const files = writeConfig({ dir: work, bindHost: '127.0.0.1', port: NEUTRON_PORT, dbUrl: DB_URL, nb: 'tcp:127.0.0.1:1', sb: 'tcp:127.0.0.1:1' }, work);
    await run('neutron-db-manage', [...configArgs(files), 'upgrade', 'heads'], { netns, timeoutMs: 600_000 });
  });
}

/**
 * A MariaDB data dir with database and user `db` (password labpass) and `pkg`'s schema, migrated by `migrate`; made
 * once per version of the Debian package `pkg` and kept under .cache. Built in a scratch netns so its MariaDB never
 * listens in the caller's.
 */
export async function migratedMariadbTemplate(pkg: string, db: string, netnsPrefix: string,
  migrate: (work: string, netns: string) => Promise<void>): Promise<string> {
  const version = (await run('dpkg-query', ['-W', '-f=${Version}', pkg])).replace(/[^0-9A-Za-z.+-]/g, '_');
  const template = join(REPO_ROOT, '.cache', `${db}-db-${version}`);
  if (existsSync(template)) return template;
  const work = `${template}.build-${process.pid}`;
  const netns = `${netnsPrefix}-${process.pid}`.slice(0, 30);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'mrun'), { recursive: true });
  await run('mariadb-install-db', ['--user=mysql', `--datadir=${join(work, 'mysql')}`, '--auth-root-authentication-method=normal', '--skip-test-db'], { timeoutMs: 120_000 });
  await chownMysql(work);
  await run('ip', ['netns', 'add', netns]);
  try {
    await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    await startMariadb(work, netns);
    await run('mariadb', ['-S', join(work, 'mrun', 'mysql.sock'), '-uroot', '-e',
      `CREATE DATABASE ${db}; CREATE USER '${db}'@'127.0.0.1' IDENTIFIED BY 'labpass'; GRANT ALL ON ${db}.* TO '${db}'@'127.0.0.1';`]);
    await migrate(work, netns);
  } finally {
    await stopDaemons(work);
    await run('ip', ['netns', 'del', netns]).catch(() => undefined);
  }
  renameSync(join(work, 'mysql'), template);
  rmSync(work, { recursive: true, force: true });
  return template;
}
