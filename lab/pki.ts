// The lab's OVSDB PKI, made once per lab state dir with ovs-pki (openvswitch-common): one CA (ovs-pki's switchca)
// and a key + certificate per role. NB and SB serve pssl: and require a client certificate signed by that CA;
// ovn-northd, ovn-controller, ovn-ic and Tessera's daemons connect over ssl: with their role's files.
// Lives in <state>/pki, outside run/, so lab restarts reuse it; private keys are mode 0600.
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TlsOptions } from '../lib/ovsdb/remote.js';
import { run } from './exec.js';

/** central: the NB/SB ovsdb-servers and ovn-northd; watcher: tessera-watcher and its ovn-ic; node: ovn-controller, agent, gateway. */
export const PKI_ROLES = ['central', 'watcher', 'node'] as const;
export type PkiRole = (typeof PKI_ROLES)[number];

export interface LabPki {
  dir: string;
  ca: string;
  roles: Record<PkiRole, TlsOptions>;
}

export function labPkiFiles(dir: string): LabPki {
  const ca = join(dir, 'ca', 'switchca', 'cacert.pem');
  const role = (r: PkiRole): TlsOptions => ({ key: join(dir, `${r}-privkey.pem`), cert: join(dir, `${r}-cert.pem`), ca });
  return { dir, ca, roles: { central: role('central'), watcher: role('watcher'), node: role('node') } };
}

/** Creates whatever of the PKI in `dir` is missing (CA, then each role's key and certificate); idempotent. */
export async function ensureLabPki(dir: string): Promise<LabPki> {
  const pki = labPkiFiles(dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const base = [`--dir=${join(dir, 'ca')}`, `--log=${join(dir, 'ovs-pki.log')}`];
  if (!existsSync(pki.ca)) await run('ovs-pki', [...base, '--force', 'init'], { cwd: dir, timeoutMs: 60_000 });
  for (const r of PKI_ROLES) {
    const files = pki.roles[r];
    if (existsSync(files.key) && existsSync(files.cert)) continue;
    // req+sign writes <name>-privkey.pem, <name>-req.pem and <name>-cert.pem into the working directory.
    await run('ovs-pki', [...base, '--force', 'req+sign', r, 'switch'], { cwd: dir, timeoutMs: 60_000 });
    chmodSync(files.key, 0o600);
  }
  return pki;
}

/** Tessera daemons' flags for one role's files. */
export const tesseraTlsArgs = (t: TlsOptions | undefined): string[] =>
  t ? ['--ovsdb-private-key', t.key, '--ovsdb-certificate', t.cert, '--ovsdb-ca-cert', t.ca] : [];

/** OVS/OVN daemons' flags (ovsdb-server, ovn-northd, ovn-nbctl): -p/-c/-C. */
export const ovsTlsArgs = (t: TlsOptions | undefined): string[] =>
  t ? [`--private-key=${t.key}`, `--certificate=${t.cert}`, `--ca-cert=${t.ca}`] : [];
