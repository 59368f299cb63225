// OVN central: NB and SB ovsdb-servers (unix socket + tcp on the central underlay IP) and ovn-northd.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { daemonEnv, daemonFlags } from './daemon.js';
import { run } from './exec.js';

export const NB_PORT = 6641;
export const SB_PORT = 6642;

export interface Central {
  dir: string;
  netns: string;
  nbSocket: string;
  sbSocket: string;
  nbTcp: string;
  sbTcp: string;
}

async function startDb(dir: string, netns: string, db: 'nb' | 'sb', ip: string, port: number): Promise<string> {
  const file = join(dir, `ovn${db}_db.db`);
  const sock = join(dir, `ovn${db}_db.sock`);
  await run('ovsdb-tool', ['create', file, `/usr/share/ovn/ovn-${db}.ovsschema`]);
  await run('ovsdb-server', [file, `--remote=punix:${sock}`, `--remote=ptcp:${port}:${ip}`, ...daemonFlags(dir, `ovn${db}_db`)], {
    netns, env: daemonEnv(dir),
  });
  return sock;
}

export async function startCentral(o: { dir: string; netns: string; ip: string }): Promise<Central> {
  mkdirSync(o.dir, { recursive: true });
  const [nbSocket, sbSocket] = await Promise.all([
    startDb(o.dir, o.netns, 'nb', o.ip, NB_PORT),
    startDb(o.dir, o.netns, 'sb', o.ip, SB_PORT),
  ]);
  await run('ovn-nbctl', [`--db=unix:${nbSocket}`, '--no-leader-only', 'init']);
  await run('ovn-northd', [`--ovnnb-db=unix:${nbSocket}`, `--ovnsb-db=unix:${sbSocket}`, ...daemonFlags(o.dir, 'ovn-northd')], {
    netns: o.netns, env: daemonEnv(o.dir),
  });
  return { dir: o.dir, netns: o.netns, nbSocket, sbSocket, nbTcp: `tcp:${o.ip}:${NB_PORT}`, sbTcp: `tcp:${o.ip}:${SB_PORT}` };
}

export const nbctl = (c: Pick<Central, 'nbSocket'>, args: string[]): Promise<string> =>
  run('ovn-nbctl', [`--db=unix:${c.nbSocket}`, '--no-leader-only', '--timeout=30', ...args]);
export const sbctl = (c: Pick<Central, 'sbSocket'>, args: string[]): Promise<string> =>
  run('ovn-sbctl', [`--db=unix:${c.sbSocket}`, '--no-leader-only', '--timeout=30', ...args]);

/** Names of the chassis registered in SB. */
export async function chassisNames(c: Pick<Central, 'sbSocket'>): Promise<string[]> {
  const out = await sbctl(c, ['--bare', '--columns=name', 'list', 'Chassis']);
  return out.split('\n').map((l) => l.trim()).filter((l) => l !== '');
}
