// OVN central: NB and SB ovsdb-servers (a unix socket for local tools, plus pssl: with client certificates, or
// plain tcp: without a PKI, on the central underlay IP) and ovn-northd.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TlsOptions } from '../lib/ovsdb/remote.js';
import { daemonEnv, daemonFlags } from './daemon.js';
import { run } from './exec.js';
import { ovsTlsArgs } from './pki.js';

export const NB_PORT = 6641;
export const SB_PORT = 6642;

export interface Central {
  dir: string;
  netns: string;
  nbSocket: string;
  sbSocket: string;
  /** What other hosts connect to: ssl:IP:6641 / ssl:IP:6642 with a PKI, else tcp:. */
  nbRemote: string;
  sbRemote: string;
}

async function startDb(dir: string, netns: string, db: 'nb' | 'sb', ip: string, port: number, tls: TlsOptions | undefined): Promise<string> {
  const file = join(dir, `ovn${db}_db.db`);
  const sock = join(dir, `ovn${db}_db.sock`);
  await run('ovsdb-tool', ['create', file, `/usr/share/ovn/ovn-${db}.ovsschema`]);
  // With --private-key/--certificate/--ca-cert, ovsdb-server's pssl: requires a client certificate signed by the CA.
  const listen = tls ? [`--remote=pssl:${port}:${ip}`, ...ovsTlsArgs(tls)] : [`--remote=ptcp:${port}:${ip}`];
  await run('ovsdb-server', [file, `--remote=punix:${sock}`, ...listen, ...daemonFlags(dir, `ovn${db}_db`)], {
    netns, env: daemonEnv(dir),
  });
  return sock;
}

/** `tls`: the central's key, certificate and CA (lab/pki.ts); NB/SB then serve pssl: and northd connects over ssl:. */
export async function startCentral(o: { dir: string; netns: string; ip: string; tls?: TlsOptions }): Promise<Central> {
  mkdirSync(o.dir, { recursive: true });
  const [nbSocket, sbSocket] = await Promise.all([
    startDb(o.dir, o.netns, 'nb', o.ip, NB_PORT, o.tls),
    startDb(o.dir, o.netns, 'sb', o.ip, SB_PORT, o.tls),
  ]);
  const scheme = o.tls ? 'ssl' : 'tcp';
  const nbRemote = `${scheme}:${o.ip}:${NB_PORT}`;
  const sbRemote = `${scheme}:${o.ip}:${SB_PORT}`;
  await run('ovn-nbctl', [`--db=unix:${nbSocket}`, '--no-leader-only', 'init']);
  const northdDbs = o.tls ? [`--ovnnb-db=${nbRemote}`, `--ovnsb-db=${sbRemote}`, ...ovsTlsArgs(o.tls)] : [`--ovnnb-db=unix:${nbSocket}`, `--ovnsb-db=unix:${sbSocket}`];
  await run('ovn-northd', [...northdDbs, ...daemonFlags(o.dir, 'ovn-northd')], {
    netns: o.netns, env: daemonEnv(o.dir),
  });
  return { dir: o.dir, netns: o.netns, nbSocket, sbSocket, nbRemote, sbRemote };
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
