// The OpenStack side of OVN-IC (seed 000, "集群互联"): a Neutron router becomes this OpenStack OVN's end of the
// transit switch `ts`, so Kubernetes clusters and OpenStack VMs learn each other's routes. Every step is
// idempotent, and `disconnect` removes only what `connect` added: Neutron's router and networks stay.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { OvsdbClient } from '../lib/ovsdb/index.js';
import { NB_MODEL, type NBTables } from '../lib/ovsdb/models/nb.js';
import { SB_MODEL } from '../lib/ovsdb/models/sb.js';
import { ICSB_MODEL } from '../lib/ovsdb/models/icsb.js';
import type { TlsOptions } from '../lib/ovsdb/remote.js';
import { SB_CHASSIS_INTERCONN_KEY } from '../lib/ovnic/gateway-flag.js';
import type { NeutronClient } from '../lib/neutron/client.js';
import { TS_NAME, tsRouterPort } from '../lib/ovn/names.js';
import { deriveTsPortAddress, ensureTsPortOps, gatewayPriorities, ipsOfPortAddress, nbGlobalOps, removeLearnedRoutesOps, removeTsPortOps, type TsPortAddress } from '../lib/ovn/interconnect.js';

/** NB_Global external_ids: which Neutron router `connect` attached, so `disconnect` finds it again. */
export const OS_IC_ROUTER_KEY = 'tessera.io/openstack-ic-router';

export interface IcConnectOptions {
  neutron: NeutronClient;
  /** Neutron router name (created when missing, as `openstack router create` would). */
  router: string;
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
    const global = nb.cache.find('NB_Global', () => true);
    const ext = { [OS_IC_ROUTER_KEY]: router.id };
    await nb.transact(nbGlobalOps(nb, { name: o.azName, external: ext, dropExternal: [], routes: { adv: true, learn: true, denylist: [] } }));
    o.log(`NB_Global name=${o.azName}, ic-route-adv=true, ic-route-learn=true${global?.name && global.name !== o.azName ? ` (was ${global.name})` : ''}`);
    await checkGateways(o);
    if (o.runDir) await ensureOvnIc(o, o.runDir);
    const lr = await waitFor(o, `${ovnRouter} in NB`, () => nb.cache.lookup('Logical_Router', 'name', ovnRouter));
    const ts = await waitFor(o, `transit switch ${TS_NAME} in NB (ovn-ic creates it from IC-NB)`, () =>
      nb.cache.find('Logical_Switch', (s) => s.name === TS_NAME && s.other_config['interconn-ts'] === TS_NAME));
    const address = await tsAddress(o, nb);
    const ops = ensureTsPortOps(nb, { az: o.azName, router: lr, ts, addr: address, gateways: gatewayPriorities(o.gatewayChassis) });
    if (ops.length) await nb.transact(ops);
    o.log(`${tsRouterPort(o.azName)} ${address.cidr} on ${ovnRouter}, joined to ${TS_NAME}; gateway chassis ${o.gatewayChassis.join(', ')}`);
    return { routerId: router.id, ovnRouter, address };
  } finally {
    nb.close();
  }
}

/** Removes the ts ports, learned routes and route options `connect` set, and stops the ovn-ic it started. */
export async function icDisconnect(o: Pick<IcConnectOptions, 'nb' | 'tls' | 'azName' | 'runDir' | 'log'>): Promise<void> {
  const nb = await OvsdbClient.connect(NB_MODEL, { remotes: o.nb, tls: o.tls, leaderOnly: false });
  try {
    await nb.monitor(['NB_Global', 'Logical_Router', 'Logical_Router_Port', 'Logical_Switch', 'Logical_Switch_Port', 'Logical_Router_Static_Route']);
    const global = nb.cache.find('NB_Global', () => true);
    const routerId = global?.external_ids[OS_IC_ROUTER_KEY];
    const lr = routerId ? nb.cache.lookup('Logical_Router', 'name', `neutron-${routerId}`) : undefined;
    const ops = [...removeTsPortOps(nb, o.azName), ...removeLearnedRoutesOps(nb, lr),
      ...nbGlobalOps(nb, { name: global?.name ?? '', external: {}, dropExternal: [OS_IC_ROUTER_KEY] })];
    await nb.transact(ops);
    o.log(`removed ${tsRouterPort(o.azName)}, its ts port, learned routes and the ic-route options`);
  } finally {
    nb.close();
  }
  if (o.runDir) await stopOvnIc(o.runDir, o.log);
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
    const taken = icsb.cache.filter('Port_Binding', (p) => p.transit_switch === TS_NAME && (!az || p.availability_zone !== az._uuid))
      .flatMap((p) => ipsOfPortAddress(p.address));
    const lrp = nb.cache.lookup('Logical_Router_Port', 'name', tsRouterPort(o.azName));
    const cur = lrp?.networks[0];
    if (lrp && cur && !taken.includes(cur.split('/')[0]!)) return { ip: cur.split('/')[0]!, cidr: cur, mac: lrp.mac };
    return deriveTsPortAddress(o.azName, taken);
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
