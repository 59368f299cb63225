// Typed view of a link's addresses and routes (from `ip -j`), and the commands that recreate them on another device.
import { run } from './sys.js';

export type Family = 'inet' | 'inet6';

export interface IpAddress {
  family: Family;
  local: string;
  prefixlen: number;
  broadcast?: string;
  scope: string;
  label?: string;
  secondary?: boolean;
  noprefixroute?: boolean;
  valid_life_time?: number;
  preferred_life_time?: number;
}

export interface IpRoute {
  family: Family;
  dst: string;
  gateway?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
  table?: string;
  type?: string;
  flags: string[];
  metrics?: Array<Record<string, number>>;
  pref?: string;
}

export interface LinkInfo {
  ifname: string;
  mtu: number;
  address: string;
  up: boolean;
  addresses: IpAddress[];
}

interface RawLink {
  ifname: string;
  mtu: number;
  address: string;
  flags: string[];
  addr_info: Array<Omit<IpAddress, 'family'> & { family: string; dynamic?: boolean; tentative?: boolean }>;
}

const FOREVER = 4294967295;

export async function linkExists(dev: string): Promise<boolean> {
  try {
    await run('ip', ['-j', 'link', 'show', 'dev', dev]);
    return true;
  } catch {
    return false;
  }
}

/** The link and the addresses an operator configured on it (kernel-managed IPv6 link-local addresses excluded). */
export async function readLink(dev: string): Promise<LinkInfo> {
  const raw = JSON.parse(await run('ip', ['-j', 'addr', 'show', 'dev', dev])) as RawLink[];
  const l = raw[0];
  if (!l) throw new Error(`link ${dev} not found`);
  const addresses: IpAddress[] = [];
  for (const a of l.addr_info) {
    if (a.family !== 'inet' && a.family !== 'inet6') continue;
    if (a.family === 'inet6' && a.scope === 'link') continue;
    const addr: IpAddress = { family: a.family, local: a.local, prefixlen: a.prefixlen, scope: a.scope };
    if (a.broadcast) addr.broadcast = a.broadcast;
    if (a.label) addr.label = a.label;
    if (a.secondary) addr.secondary = true;
    if (a.noprefixroute) addr.noprefixroute = true;
    if (a.valid_life_time !== undefined && a.valid_life_time !== FOREVER) addr.valid_life_time = a.valid_life_time;
    if (a.preferred_life_time !== undefined && a.preferred_life_time !== FOREVER) addr.preferred_life_time = a.preferred_life_time;
    addresses.push(addr);
  }
  return { ifname: l.ifname, mtu: l.mtu, address: l.address, up: l.flags.includes('UP'), addresses };
}

/** Every route through `dev`, in all tables and both families, as `ip -j` reports it. */
export async function readRoutes(dev: string): Promise<IpRoute[]> {
  const out: IpRoute[] = [];
  for (const family of ['inet', 'inet6'] as const) {
    const flag = family === 'inet' ? '-4' : '-6';
    const raw = JSON.parse(await run('ip', [flag, '-j', 'route', 'show', 'table', 'all', 'dev', dev])) as Array<Omit<IpRoute, 'family'>>;
    for (const r of raw) out.push({ ...r, family, flags: r.flags ?? [] });
  }
  return out;
}

/** Routes the kernel derives from addresses or link state; they follow the address and must not be copied. */
export function isKernelManaged(r: IpRoute): boolean {
  return r.protocol === 'kernel' || r.table === 'local' || r.type === 'local' || r.type === 'broadcast' || r.type === 'multicast' || r.type === 'anycast';
}

/** `ip addr add` arguments that put address `a` (read from `fromDev`) on `toDev`, keeping its label, flags and lifetimes. */
export function addressArgs(a: IpAddress, fromDev: string, toDev: string): string[] {
  const args = [a.family === 'inet' ? '-4' : '-6', 'addr', 'add', `${a.local}/${a.prefixlen}`];
  if (a.broadcast) args.push('broadcast', a.broadcast);
  if (a.scope && a.scope !== 'global') args.push('scope', a.scope);
  if (a.family === 'inet' && a.label && a.label !== fromDev) {
    // Labels must start with the device name: eth0:vip becomes breth0:vip.
    args.push('label', a.label.startsWith(fromDev) ? toDev + a.label.slice(fromDev.length) : a.label);
  }
  if (a.noprefixroute) args.push('noprefixroute');
  if (a.valid_life_time !== undefined) args.push('valid_lft', String(a.valid_life_time));
  if (a.preferred_life_time !== undefined) args.push('preferred_lft', String(a.preferred_life_time));
  args.push('dev', toDev);
  return args;
}

export async function addAddress(a: IpAddress, fromDev: string, toDev: string): Promise<void> {
  await run('ip', addressArgs(a, fromDev, toDev));
}

export async function delAddress(a: IpAddress, dev: string): Promise<void> {
  await run('ip', [a.family === 'inet' ? '-4' : '-6', 'addr', 'del', `${a.local}/${a.prefixlen}`, 'dev', dev]);
}

/**
 * `ip route replace` arguments that recreate `r` on `dev`. Replace keys on (table, dst, tos, metric), so the same
 * route on another device takes the old one's place atomically: there is no moment without a default route.
 */
export function routeArgs(r: IpRoute, dev: string): string[] {
  const args = [r.family === 'inet' ? '-4' : '-6', 'route', 'replace'];
  if (r.type && r.type !== 'unicast') args.push(r.type);
  args.push(r.dst);
  if (r.gateway) args.push('via', r.gateway);
  args.push('dev', dev);
  if (r.table && r.table !== 'main') args.push('table', r.table);
  if (r.protocol) args.push('proto', r.protocol);
  if (r.scope) args.push('scope', r.scope);
  if (r.prefsrc) args.push('src', r.prefsrc);
  if (r.metric !== undefined) args.push('metric', String(r.metric));
  if (r.pref) args.push('pref', r.pref);
  for (const m of r.metrics ?? []) for (const [k, v] of Object.entries(m)) args.push(k, String(v));
  if (r.flags.includes('onlink')) args.push('onlink');
  return args;
}

export async function putRoute(r: IpRoute, dev: string): Promise<void> {
  await run('ip', routeArgs(r, dev));
}

export async function setLinkUp(dev: string, mtu?: number): Promise<void> {
  const args = ['link', 'set', 'dev', dev];
  if (mtu !== undefined) args.push('mtu', String(mtu));
  args.push('up');
  await run('ip', args);
}

/** tx checksum offload state ("on"/"off"), or undefined if the driver does not report it. */
export async function txChecksum(dev: string): Promise<'on' | 'off' | undefined> {
  const out = await run('ethtool', ['-k', dev]);
  const m = /^tx-checksumming:\s+(on|off)/m.exec(out);
  return m ? (m[1] as 'on' | 'off') : undefined;
}

export async function setTxChecksum(dev: string, state: 'on' | 'off'): Promise<void> {
  await run('ethtool', ['-K', dev, 'tx', state]);
}
