// The OpenStack side of OVN-IC (seed 000, "集群互联"): a Neutron router becomes this OpenStack OVN's end of a
// transit switch, so Kubernetes clusters and OpenStack VMs learn each other's routes. ovn-ic advertises and learns
// routes per router, on the transit switches that router is attached to, so one router per tenant, each on its own
// transit switch with its own cluster (seed 002, "组网方式二"), keeps the tenants apart. Every step is idempotent,
// and `disconnect` removes only what `connect` added for that transit switch: Neutron's rows and the other
// tenants' attachments stay.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { OvsdbClient } from '../lib/ovsdb/index.js';
import { NB_MODEL, type NBTables } from '../lib/ovsdb/models/nb.js';
import { SB_MODEL } from '../lib/ovsdb/models/sb.js';
import { ICSB_MODEL } from '../lib/ovsdb/models/icsb.js';
import { ICNB_MODEL } from '../lib/ovsdb/models/icnb.js';
import type { TlsOptions } from '../lib/ovsdb/remote.js';
import { SB_CHASSIS_INTERCONN_KEY } from '../lib/ovnic/gateway-flag.js';
import type { NeutronClient } from '../lib/neutron/client.js';
import { ConfigError } from '../lib/cli.js';
import { TS_NAME, tsRouterPort } from '../lib/ovn/names.js';
import { deriveTsPortAddress, ensureTsPortOps, gatewayPriorities, ipsOfPortAddress, nbGlobalOps, removeLearnedRoutesOps, removeTsPortOps, type TsPortAddress } from '../lib/ovn/interconnect.js';

/** NB_Global external_ids: which Neutron router `connect` attached to `ts`, so `disconnect` finds it again. */
export const OS_IC_ROUTER_KEY = 'tessera.io/openstack-ic-router';
/** The record of the router on transit switch `ts`: the key above for `ts`, `<key>.<ts>` for another one. */
export const osIcRouterKey = (ts: string): string => (ts === TS_NAME ? OS_IC_ROUTER_KEY : `${OS_IC_ROUTER_KEY}.${ts}`);
const isRouterRecord = (k: string): boolean => k === OS_IC_ROUTER_KEY || k.startsWith(`${OS_IC_ROUTER_KEY}.`);

export interface IcConnectOptions {
  neutron: NeutronClient;
  /** Neutron router name (created when missing, as `openstack router create` would). */
  router: string;
  /** Transit switch the router joins (created in IC-NB when missing). */
  ts: string;
  azName: string;
  nb: string[];
  sb: string[];
  icNb: string[];
  icSb: string[];
  gatewayChassis: string[];
  tls?: TlsOptions;
  /** Where ovn-ic's pidfile and log go; undefined: an ovn-ic the operator runs already. */
  runDir?: string;
  waitMs?: number;
  log: (msg: string) => void;
}

export interface IcConnectResult {
  routerId: string;
  ovnRouter: string;
  address: TsPortAddress;
}

type Nb = OvsdbClient<NBTables>;

export async function icConnect(o: IcConnectOptions): Promise<IcConnectResult> {
  const router = (await o.neutron.listRouters({ name: o.router }))[0] ?? (await o.neutron.createRouter(o.router));
  o.log(`Neutron router ${o.router}: ${router.id}`);
  const ovnRouter = `neutron-${router.id}`;
  const nb = await OvsdbClient.connect(NB_MODEL, { remotes: o.nb, tls: o.tls, leaderOnly: false });
  try {
    await nb.monitor(['NB_Global', 'Logical_Router', 'Logical_Router_Port', 'Logical_Switch', 'Logical_Switch_Port', 'Gateway_Chassis']);
    refuseOtherRouter(nb, o, ovnRouter);
    const global = nb.cache.find('NB_Global', () => true);
    const ext = { [osIcRouterKey(o.ts)]: router.id };
    await nb.transact(nbGlobalOps(nb, { name: o.azName, external: ext, dropExternal: [], routes: { adv: true, learn: true, denylist: [] } }));
    o.log(`NB_Global name=${o.azName}, ic-route-adv=true, ic-route-learn=true${global?.name && global.name !== o.azName ? ` (was ${global.name})` : ''}`);
    await checkGateways(o);
    await ensureTransitSwitch(o);
    if (o.runDir) await ensureOvnIc(o, o.runDir);
    const lr = await waitFor(o, `${ovnRouter} in NB`, () => nb.cache.lookup('Logical_Router', 'name', ovnRouter));
    const ts = await waitFor(o, `transit switch ${o.ts} in NB (ovn-ic creates it from IC-NB)`, () =>
      nb.cache.find('Logical_Switch', (s) => s.name === o.ts && s.other_config['interconn-ts'] === o.ts));
    const address = await tsAddress(o, nb);
    const ops = ensureTsPortOps(nb, { az: o.azName, router: lr, ts, addr: address, gateways: gatewayPriorities(o.gatewayChassis) });
    if (ops.length) await nb.transact(ops);
    o.log(`${tsRouterPort(o.azName, o.ts)} ${address.cidr} on ${ovnRouter}, joined to ${o.ts}; gateway chassis ${o.gatewayChassis.join(', ')}`);
    return { routerId: router.id, ovnRouter, address };
  } finally {
    nb.close();
  }
}

/** One transit switch, one router: another router already on it (another tenant's) is never moved; a usage error. */
function refuseOtherRouter(nb: Nb, o: IcConnectOptions, ovnRouter: string): void {
  const lrp = nb.cache.lookup('Logical_Router_Port', 'name', tsRouterPort(o.azName, o.ts));
  const holder = lrp && nb.cache.find('Logical_Router', (r) => r.ports.includes(lrp._uuid));
  if (holder && holder.name !== ovnRouter) {
    throw new ConfigError(`transit switch ${o.ts} is attached to ${holder.name}, not ${ovnRouter}: ` +
      `run \`tessera-openstack ic disconnect --ts ${o.ts}\` first, or give this router its own --ts`);
  }
}

/** The transit switch in IC-NB, as the cluster side creates it; ovn-ic then mirrors it into every AZ's NB. */
async function ensureTransitSwitch(o: IcConnectOptions): Promise<void> {
  const icnb = await OvsdbClient.connect(ICNB_MODEL, { remotes: o.icNb, tls: o.tls, leaderOnly: false });
  try {
    await icnb.monitor(['Transit_Switch']);
    if (icnb.cache.lookup('Transit_Switch', 'name', o.ts)) return;
    // A cluster may create it at the same moment (name is a unique index): then the insert fails and it exists.
    await icnb.transact([icnb.op.insert('Transit_Switch', { name: o.ts })]).then(() => o.log(`transit switch ${o.ts} created in IC-NB`),
      (err: unknown) => o.log(`transit switch ${o.ts}: ${err instanceof Error ? err.message : String(err)}`));
  } finally {
    icnb.close();
  }
}

export interface IcDisconnectOptions {
  nb: string[];
  /** IC-SB: when given, this AZ's routes and port on `ts` are withdrawn there too. */
  icSb?: string[];
  tls?: TlsOptions;
  azName: string;
  ts: string;
  runDir?: string;
  log: (msg: string) => void;
}

/**
 * Removes the ts ports and learned routes of the router on `ts` and its record. The route options and ovn-ic stay
 * while another router (tenant) is still connected; the last disconnect removes them and stops the ovn-ic it started.
 */
export async function icDisconnect(o: IcDisconnectOptions): Promise<void> {
  const nb = await OvsdbClient.connect(NB_MODEL, { remotes: o.nb, tls: o.tls, leaderOnly: false });
  let last = true;
  try {
    await nb.monitor(['NB_Global', 'Logical_Router', 'Logical_Router_Port', 'Logical_Switch', 'Logical_Switch_Port', 'Logical_Router_Static_Route']);
    const global = nb.cache.find('NB_Global', () => true);
    const key = osIcRouterKey(o.ts);
    const routerId = global?.external_ids[key];
    const lr = routerId ? nb.cache.lookup('Logical_Router', 'name', `neutron-${routerId}`) : undefined;
    const others = Object.keys(global?.external_ids ?? {}).filter((k) => isRouterRecord(k) && k !== key);
    last = others.length === 0;
    const globalOps = last
      ? nbGlobalOps(nb, { name: global?.name ?? '', external: {}, dropExternal: [key] })
      : nbGlobalOps(nb, { name: global?.name ?? '', external: {}, dropExternal: [key], routes: routeOptions(global?.options ?? {}) });
    await nb.transact([...removeTsPortOps(nb, o.azName, o.ts), ...removeLearnedRoutesOps(nb, lr), ...globalOps]);
    o.log(`removed ${tsRouterPort(o.azName, o.ts)}, its port on ${o.ts}, learned routes${last ? ' and the ic-route options' : ` (${others.length} other router(s) stay connected)`}`);
  } finally {
    nb.close();
  }
  if (o.icSb) await withdrawFromIcSb(o);
  else o.log(`IC-SB not given: ${o.azName}'s routes on ${o.ts} stay in IC-SB for the peers to learn (ovn-ic does not withdraw them); run again with --ic-sb`);
  if (o.runDir && last) await stopOvnIc(o.runDir, o.log);
}

/** The ic-route options as they are, so a disconnect that leaves other tenants connected rewrites them unchanged. */
function routeOptions(opts: Record<string, string>): { adv: boolean; learn: boolean; denylist: string[] } {
  const deny = opts['ic-route-denylist'] ?? opts['ic-route-blacklist'] ?? '';
  return { adv: opts['ic-route-adv'] === 'true', learn: opts['ic-route-learn'] === 'true', denylist: deny.split(',').filter(Boolean) };
}

/**
 * This AZ's routes and port binding on `ts` in IC-SB: ovn-ic advertises per attached router and so never revisits a
 * transit switch no router of this AZ is on any more; its routes there would stay for the peers to learn.
 */
async function withdrawFromIcSb(o: IcDisconnectOptions): Promise<void> {
  const icsb = await OvsdbClient.connect(ICSB_MODEL, { remotes: o.icSb!, tls: o.tls, leaderOnly: false });
  try {
    await icsb.monitor(['Availability_Zone', 'Route', 'Port_Binding']);
    const az = icsb.cache.lookup('Availability_Zone', 'name', o.azName);
    if (!az) return;
    const mine = (t: 'Route' | 'Port_Binding'): number => icsb.cache.filter(t, (r) => r.availability_zone === az._uuid && r.transit_switch === o.ts).length;
    const n = mine('Route') + mine('Port_Binding');
    if (!n) return;
    await icsb.transact([
      icsb.op.delete('Route', [['availability_zone', '==', az._uuid], ['transit_switch', '==', o.ts]]),
      icsb.op.delete('Port_Binding', [['availability_zone', '==', az._uuid], ['transit_switch', '==', o.ts]]),
    ]);
    o.log(`withdrew ${n} IC-SB row(s) of ${o.azName} on ${o.ts}`);
  } finally {
    icsb.close();
  }
}

async function checkGateways(o: IcConnectOptions): Promise<void> {
  const sb = await OvsdbClient.connect(SB_MODEL, { remotes: o.sb, tls: o.tls, leaderOnly: false });
  try {
    await sb.monitor(['Chassis']);
    for (const name of o.gatewayChassis) {
      const ch = sb.cache.lookup('Chassis', 'name', name);
      if (!ch) throw new Error(`gateway chassis ${name} is not in SB: start ovn-controller on that node first`);
      if (ch.other_config[SB_CHASSIS_INTERCONN_KEY] !== 'true') {
        throw new Error(`chassis ${name} is not an interconnection gateway: on that node run ` +
          `\`ovs-vsctl set open_vswitch . external_ids:ovn-is-interconn=true\` and retry`);
      }
    }
  } finally {
    sb.close();
  }
}

/** The ts port address: the one in place if no other AZ holds it, else derived from the AZ name past the taken ones. */
async function tsAddress(o: IcConnectOptions, nb: Nb): Promise<TsPortAddress> {
  const icsb = await OvsdbClient.connect(ICSB_MODEL, { remotes: o.icSb, tls: o.tls, leaderOnly: false });
  try {
    await icsb.monitor(['Availability_Zone', 'Port_Binding']);
    const az = icsb.cache.lookup('Availability_Zone', 'name', o.azName);
    const taken = icsb.cache.filter('Port_Binding', (p) => p.transit_switch === o.ts && (!az || p.availability_zone !== az._uuid))
      .flatMap((p) => ipsOfPortAddress(p.address));
    const lrp = nb.cache.lookup('Logical_Router_Port', 'name', tsRouterPort(o.azName, o.ts));
    const cur = lrp?.networks[0];
    if (lrp && cur && !taken.includes(cur.split('/')[0]!)) return { ip: cur.split('/')[0]!, cidr: cur, mac: lrp.mac };
    return deriveTsPortAddress(o.azName, taken, o.ts);
  } finally {
    icsb.close();
  }
}

const pidfile = (runDir: string): string => join(runDir, 'ovn-ic.pid');

function runningPid(runDir: string): number | undefined {
  if (!existsSync(pidfile(runDir))) return undefined;
  const pid = Number(readFileSync(pidfile(runDir), 'utf8').trim());
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** Starts ovn-ic for this OVN (as `ovn-ctl start_ic` does) unless the one started before still runs. */
async function ensureOvnIc(o: IcConnectOptions, runDir: string): Promise<void> {
  mkdirSync(runDir, { recursive: true });
  const pid = runningPid(runDir);
  if (pid) return o.log(`ovn-ic already running (pid ${pid})`);
  const tls = o.tls ? [`--private-key=${o.tls.key}`, `--certificate=${o.tls.cert}`, `--ca-cert=${o.tls.ca}`] : [];
  await execa('ovn-ic', [`--ovnnb-db=${o.nb.join(',')}`, `--ovnsb-db=${o.sb.join(',')}`, `--ic-nb-db=${o.icNb.join(',')}`,
    `--ic-sb-db=${o.icSb.join(',')}`, ...tls, `--pidfile=${pidfile(runDir)}`, `--log-file=${join(runDir, 'ovn-ic.log')}`,
    `--unixctl=${join(runDir, 'ovn-ic.ctl')}`, '--detach', '--no-chdir', '-vconsole:off'], { timeout: 30_000 });
  o.log(`ovn-ic started (log ${join(runDir, 'ovn-ic.log')})`);
}

async function stopOvnIc(runDir: string, log: (m: string) => void): Promise<void> {
  const pid = runningPid(runDir);
  if (!pid) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 50 && runningPid(runDir) === pid; i++) await new Promise((r) => setTimeout(r, 100));
  log(`ovn-ic (pid ${pid}) stopped`);
}

async function waitFor<T>(o: Pick<IcConnectOptions, 'waitMs' | 'log'>, what: string, get: () => T | undefined): Promise<T> {
  const end = Date.now() + (o.waitMs ?? 60_000);
  let said = false;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    if (!said) o.log(`waiting for ${what}`);
    said = true;
    await new Promise((r) => setTimeout(r, 250));
  }
}
