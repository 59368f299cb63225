// neutron-ovn-db-sync-util against a lab Neutron, with the same config files as its neutron-server, in log or
// repair mode. Its log goes to a file of its own, so a test reads what this run reported.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../exec.js';
import { configArgs, type Neutron } from './neutron.js';

export interface DbSyncResult {
  ok: boolean;
  /** WARNING and ERROR lines of the run's log, without the request context. */
  warnings: string[];
  logFile: string;
}

export async function runNeutronDbSync(n: Pick<Neutron, 'dir' | 'netns' | 'configFiles'>, mode: 'log' | 'repair'): Promise<DbSyncResult> {
  const logFile = join(n.dir, `db-sync-${mode}-${Date.now()}.log`);
  let ok = true;
  try {
    await run('neutron-ovn-db-sync-util', [...configArgs(n.configFiles), '--log-file', logFile, '--ovn-neutron_sync_mode', mode], { netns: n.netns, timeoutMs: 180_000 });
  } catch {
    ok = false;
  }
  const text = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
  const warnings = text.split('\n').filter((l) => / (WARNING|ERROR) /.test(l)).map((l) => l.replace(/^.*? (WARNING|ERROR) \S+ (\[[^\]]*\] )?/, '$1 '));
  return { ok, warnings, logFile };
}

/** The lab's Neutron of `make lab OPENSTACK=shared`, from its run dir. */
export function sharedNeutron(runDir: string, netns: string, socket: string): Neutron {
  const dir = join(runDir, 'os', 'neutron');
  return { dir, netns, url: 'http://127.0.0.1:9696', socket, configFiles: [join(dir, 'server', 'neutron.conf'), join(dir, 'server', 'ml2_conf.ini')] };
}
