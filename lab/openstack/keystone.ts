// A real Keystone (Debian's keystone, Zed) as a lab component: its own MariaDB and keystone under uwsgi, inside a
// netns, with fernet tokens and an admin bootstrapped by keystone-manage. The lab reaches it through a unix socket
// that socat forwards into the netns; neutron-server reaches it over the netns' links.
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnDaemon, stopDaemons } from '../daemon.js';
import { run } from '../exec.js';
import { waitFor } from '../wait.js';
import { identityV3Url, keystoneRequest } from '../../lib/neutron/keystone.js';
import { chownMysql, migratedMariadbTemplate, startMariadb } from './neutron.js';

export const KEYSTONE_PORT = 5000;
export const KEYSTONE_REGION = 'RegionOne';
const DB_URL = 'mysql+pymysql://keystone:labpass@127.0.0.1:3306/keystone';

export interface KeystoneOptions {
  dir: string;
  netns: string;
  /** Address keystone binds inside the netns; the catalog's identity endpoint is http://<bindHost>:5000/v3. */
  bindHost: string;
  adminPassword: string;
  /** Token lifetime ([token] expiration), in seconds. */
  tokenLifetimeS?: number;
}

export interface Keystone {
  dir: string;
  netns: string;
  /** OS_AUTH_URL, as seen inside the netns and from its links. */
  url: string;
  /** Unix socket that reaches the API from any netns. */
  socket: string;
  adminPassword: string;
  region: string;
}

function keystoneConf(dir: string, tokenLifetimeS: number, dbUrl = DB_URL): string {
  return [
    '[DEFAULT]', `log_file = ${join(dir, 'keystone.log')}`, '',
    '[database]', `connection = ${dbUrl}`, '',
    '[token]', 'provider = fernet', `expiration = ${tokenLifetimeS}`, '',
    '[fernet_tokens]', `key_repository = ${join(dir, 'fernet-keys')}`, '',
    '[fernet_receipts]', `key_repository = ${join(dir, 'fernet-keys')}`, '',
    '[credential]', `key_repository = ${join(dir, 'credential-keys')}`, '',
    '[cache]', 'enabled = false', '',
  ].join('\n');
}

/** Starts MariaDB (from a migrated template) and keystone, bootstraps the admin; resolves once the API answers. */
export async function startKeystone(o: KeystoneOptions): Promise<Keystone> {
  const t0 = Date.now();
  mkdirSync(join(o.dir, 'mrun'), { recursive: true });
  const template = await migratedDbTemplate();
  rmSync(join(o.dir, 'mysql'), { recursive: true, force: true });
  cpSync(template, join(o.dir, 'mysql'), { recursive: true, preserveTimestamps: true });
  await chownMysql(o.dir);
  await startMariadb(o.dir, o.netns);
  const conf = join(o.dir, 'keystone.conf');
  writeFileSync(conf, keystoneConf(o.dir, o.tokenLifetimeS ?? 3600));
  const manage = (args: string[]): Promise<string> => run('keystone-manage', ['--config-file', conf, ...args], { netns: o.netns, timeoutMs: 120_000 });
  for (const d of ['fernet-keys', 'credential-keys']) mkdirSync(join(o.dir, d), { recursive: true, mode: 0o700 });
  await manage(['fernet_setup', '--keystone-user', 'root', '--keystone-group', 'root']);
  await manage(['credential_setup', '--keystone-user', 'root', '--keystone-group', 'root']);
  const url = `http://${o.bindHost}:${KEYSTONE_PORT}/v3`;
  // The password reaches keystone-manage through its environment (OS_BOOTSTRAP_PASSWORD), not its argv.
  await run('keystone-manage', ['--config-file', conf, 'bootstrap', '--bootstrap-region-id', KEYSTONE_REGION,
    '--bootstrap-public-url', url, '--bootstrap-internal-url', url, '--bootstrap-admin-url', url],
  { netns: o.netns, timeoutMs: 120_000, env: { OS_BOOTSTRAP_PASSWORD: o.adminPassword } });
  mkdirSync(join(o.dir, 'api'), { recursive: true });
  spawnDaemon({
    dir: join(o.dir, 'api'), name: 'keystone', netns: o.netns, cmd: 'uwsgi',
    args: ['--plugin', 'python3', '--http-socket', `${o.bindHost}:${KEYSTONE_PORT}`, '--wsgi-file', '/usr/bin/keystone-wsgi-public',
      // Processes, not threads: keystone's greenlet crashes uwsgi worker threads (segfault on the first POST).
      // http-socket closes every connection after its answer; saying so keeps keystoneauth (neutron-server's
      // keystonemiddleware) from reusing it and failing with RemoteDisconnected.
      '--master', '--processes', '2', '--die-on-term', '--buffer-size', '65535', '--lazy-apps', '--add-header', 'Connection: close'],
    env: { OS_KEYSTONE_CONFIG_DIR: o.dir, OS_KEYSTONE_CONFIG_FILES: 'keystone.conf' },
  });
  const socket = join(o.dir, 'keystone.sock');
  rmSync(socket, { force: true });
  mkdirSync(join(o.dir, 'fwd'), { recursive: true });
  spawnDaemon({
    dir: join(o.dir, 'fwd'), name: 'keystone-forward', netns: o.netns, cmd: 'socat',
    args: [`UNIX-LISTEN:${socket},fork,mode=600`, `TCP:${o.bindHost}:${KEYSTONE_PORT}`],
  });
  const k: Keystone = { dir: o.dir, netns: o.netns, url, socket, adminPassword: o.adminPassword, region: KEYSTONE_REGION };
  await waitFor('keystone API', async () => (await keystoneRequest(identityV3Url(url), 'GET', {}, undefined, { socketPath: socket, timeoutMs: 5000 })).status === 200,
    90_000, 300).catch((e: Error) => {
    throw new Error(`${e.message}; see ${join(o.dir, 'keystone.log')} and ${join(o.dir, 'api', 'keystone.log')} (${Date.now() - t0} ms)`);
  });
  return k;
}

/** Stops the forwarder and keystone before its database. */
export async function stopKeystone(dir: string): Promise<void> {
  await stopDaemons(join(dir, 'fwd'));
  await stopDaemons(join(dir, 'api'));
  await stopDaemons(dir);
}

/** A MariaDB data dir with Keystone's schema migrated (keystone-manage db_sync), made once per keystone version. */
function migratedDbTemplate(): Promise<string> {
  return migratedMariadbTemplate('keystone', 'keystone', 'tessera-ksdb', async (work, netns) => {
    writeFileSync(join(work, 'keystone.conf'), keystoneConf(work, 3600));
    await run('keystone-manage', ['--config-file', join(work, 'keystone.conf'), 'db_sync'], { netns, timeoutMs: 600_000 });
  });
}
