// On the userspace datapath (br-int netdev) OVS 3.1's conntrack checks TCP sequence numbers, and it only learns a
// connection's window scaling when it sees both the SYN and the SYN-ACK in a zone. The host's connections to pods
// on its own node, through the management port, are committed in the management port's zone on the way in, but
// the pod's answers never pass that zone: the connection stays SYN_SENT there, and once the host has sent one
// unscaled window (~64 kB) its segments count as out of window (ct.inv), which OVN drops. The stalled connection
// also makes ovs-vswitchd 3.1.0 abort (conntrack.c conn_update_state assertion) about 30 s later. So on netdev the
// agent turns the sequence check off (the kernel datapath's equivalent is nf_conntrack_tcp_be_liberal) and keeps it
// off: ovs-vswitchd forgets the setting when it restarts, so every reconcile pass checks it.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import type { Logger } from '../lib/log.js';

/**
 * ovs-vswitchd's control socket next to the OVS database socket (unix:PATH): `ovs-vswitchd.ctl` when it was
 * started with that --unixctl, else `ovs-vswitchd.<pid>.ctl` from its pidfile; otherwise ovs-appctl's default.
 */
export function vswitchdTarget(ovsDb: string): string {
  if (!ovsDb.startsWith('unix:')) return 'ovs-vswitchd';
  const dir = dirname(ovsDb.slice('unix:'.length));
  const named = join(dir, 'ovs-vswitchd.ctl');
  if (existsSync(named)) return named;
  try {
    const pid = readFileSync(join(dir, 'ovs-vswitchd.pid'), 'utf8').trim();
    if (/^\d+$/.test(pid) && existsSync(join(dir, `ovs-vswitchd.${pid}.ctl`))) return join(dir, `ovs-vswitchd.${pid}.ctl`);
  } catch {
    /* no pidfile there: the default target */
  }
  return 'ovs-vswitchd';
}

/** `ovs-appctl dpctl/ct-get-tcp-seq-chk` says "TCP sequence checking: enabled|disabled". */
export function tcpSeqCheckEnabled(out: string): boolean {
  return /:\s*enabled\b/.test(out);
}

/** Turns the userspace conntrack's TCP sequence check off if it is on; true when it had to. */
export async function keepTcpSeqCheckOff(target: string, log: Logger): Promise<boolean> {
  const appctl = (cmd: string): Promise<string> => execa('ovs-appctl', ['-t', target, cmd], { timeout: 10_000 }).then((r) => r.stdout);
  if (!tcpSeqCheckEnabled(await appctl('dpctl/ct-get-tcp-seq-chk'))) return false;
  await appctl('dpctl/ct-disable-tcp-seq-chk');
  log.info('userspace conntrack: TCP sequence checking turned off (host <-> local pod connections through the management port)', { target });
  return true;
}
