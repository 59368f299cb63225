// Shared pieces of the gateway tests: a node's own OVS (ovsdb-server + ovs-vswitchd, netdev) in a netns, snapshots
// of a netns's addresses and routes for exact before/after comparison, and running tessera-gateway inside a netns.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { startOvsDaemons } from '../../../lab/ovs-node.js';
import { run } from '../../../lab/exec.js';

export const REPO = resolve(import.meta.dirname, '../../..');
const TSX = join(REPO, 'node_modules/.bin/tsx');

export interface NodeOvs {
  netns: string;
  dir: string;
  db: string;
}

/** ovsdb-server + ovs-vswitchd (userspace datapath) for one node, state and sockets in `dir`. */
export async function startNodeOvs(netns: string, dir: string): Promise<NodeOvs> {
  const { dbSocket } = await startOvsDaemons(netns, dir);
  const n: NodeOvs = { netns, dir, db: `unix:${dbSocket}` };
  // A userspace-datapath node says so before anything runs (no kernel module here): ovn-controller creates br-int
  // on netdev, and nics-to-bridge, which may run before br-int exists, takes the same datapath from this hint.
  await vsctl(n, ['set', 'Open_vSwitch', '.', 'external_ids:ovn-bridge-datapath-type=netdev']);
  return n;
}

export const vsctl = (n: NodeOvs, args: string[]): Promise<string> => run('ovs-vsctl', [`--db=${n.db}`, '--timeout=30', ...args]);

export interface GatewayRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs tessera-gateway (from source, through tsx) inside `netns`; never throws on a non-zero exit. */
export function gateway(netns: string, args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<GatewayRun> {
  return new Promise((resolveRun, reject) => {
    const child = spawn('ip', ['netns', 'exec', netns, TSX, join(REPO, 'gateway/main.ts'), ...args], {
      env: { ...process.env, ...env, NODE_EXTRA_CA_CERTS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

interface RawAddrLink {
  ifname: string;
  addr_info: Array<Record<string, unknown>>;
}

/**
 * Everything `ip -j addr` and `ip -j route show table all` (both families) say about a netns, normalised for
 * comparison: routes sorted. Only links named in `links`, and routes through them, are included (OVS and pods add
 * their own devices).
 */
export async function netSnapshot(netns: string, links: string[]): Promise<{ addrs: Record<string, unknown[]>; routes: string[] }> {
  const addrs: Record<string, unknown[]> = {};
  const all = JSON.parse(await run('ip', ['-n', netns, '-j', 'addr', 'show'])) as RawAddrLink[];
  for (const l of all) if (links.includes(l.ifname)) addrs[l.ifname] = l.addr_info.filter((a) => !(a.family === 'inet6' && a.scope === 'link'));
  const routes: string[] = [];
  for (const fam of ['-4', '-6']) {
    const rs = JSON.parse(await run('ip', ['-n', netns, fam, '-j', 'route', 'show', 'table', 'all'])) as unknown[];
    // IPv6 link-local routes come and go with DAD on their own schedule; nics-to-bridge never touches them.
    for (const r of rs as Array<{ dst: string; dev?: string }>) {
      if (r.dst.startsWith('fe80:') || (r.dev !== undefined && !links.includes(r.dev))) continue;
      routes.push(JSON.stringify(r));
    }
  }
  routes.sort();
  return { addrs, routes };
}
