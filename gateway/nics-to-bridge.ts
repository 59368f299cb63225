// nics-to-bridge: put a NIC into an OVS bridge `br<nic>` (on br-int's datapath) and move its addresses and routes (default route
// included) to the bridge's LOCAL port, transactionally. The plan (the NIC's original state) is recorded before any
// change and progress after each step; a failure rolls back the steps done so far in reverse order, and a plan left
// behind by a crash is rolled back before trying again. Undo replays the recorded plan backwards.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { getRpFilter, setRpFilter } from './sysctl.js';
import { join } from 'node:path';
import {
  addAddress, delAddress, isKernelManaged, linkExists, putRoute, readLink, readRoutes, setLinkUp, setTxChecksum, txChecksum,
  type IpAddress, type IpRoute,
} from './ip.js';
import type { DatapathType, Ovs } from './ovs.js';
import { poll } from './sys.js';
import type { Logger } from '../lib/log.js';

export const STEPS = ['create-bridge', 'prepare-links', 'copy-addresses', 'move-routes', 'remove-nic-addresses', 'isolate-nic'] as const;
export type Step = (typeof STEPS)[number];

/** Test hook: make the run fail right after this step was applied, to prove rollback. */
export const FAIL_AFTER_ENV = 'TESSERA_GATEWAY_FAIL_AFTER';

export interface BridgePlan {
  nic: string;
  bridge: string;
  mac: string;
  mtu: number;
  /** Whether the bridge existed before we started (then undo leaves it). */
  bridgeExisted: boolean;
  /** br-int's datapath, which the bridge must share. Absent in plans recorded before it was detected: netdev. */
  datapathType?: DatapathType;
  /** The NIC's tx checksum offload before we switched it off (userspace datapath only). */
  txChecksum?: 'on' | 'off';
  /** net.ipv4.conf.<nic>.rp_filter before we set it (see isolate-nic). */
  rpFilter?: string;
  addresses: IpAddress[];
  /** Routes through the NIC that are not derived from its addresses; they move to the bridge. */
  routes: IpRoute[];
  done: Step[];
  complete: boolean;
}

export const bridgeName = (nic: string): string => `br${nic}`;


export function validateNic(nic: string): void {
  if (!/^[A-Za-z0-9_.-]{1,13}$/.test(nic)) {
    throw new Error(`invalid NIC name "${nic}": 1-13 characters of [A-Za-z0-9_.-] (the bridge br${nic} must fit IFNAMSIZ)`);
  }
}

export class PlanStore {
  constructor(readonly dir: string) {}
  path(nic: string): string {
    return join(this.dir, 'nics-to-bridge', `${nic}.json`);
  }
  load(nic: string): BridgePlan | undefined {
    const p = this.path(nic);
    if (!existsSync(p)) return undefined;
    return JSON.parse(readFileSync(p, 'utf8')) as BridgePlan;
  }
  /** Write-then-rename so a crash never leaves a torn plan. */
  save(plan: BridgePlan): void {
    const p = this.path(plan.nic);
    mkdirSync(join(this.dir, 'nics-to-bridge'), { recursive: true });
    writeFileSync(`${p}.tmp`, JSON.stringify(plan, null, 2));
    renameSync(`${p}.tmp`, p);
  }
  remove(nic: string): void {
    rmSync(this.path(nic), { force: true });
  }
}

export async function makePlan(ovs: Ovs, nic: string): Promise<BridgePlan> {
  const link = await readLink(nic);
  const routes = (await readRoutes(nic)).filter((r) => !isKernelManaged(r));
  const bridge = bridgeName(nic);
  const datapathType = await ovs.detectDatapathType();
  const plan: BridgePlan = {
    nic, bridge, mac: link.address, mtu: link.mtu,
    bridgeExisted: await ovs.bridgeExists(bridge), datapathType,
    addresses: link.addresses, routes, done: [], complete: false,
  };
  // The kernel datapath finishes checksums itself; only the userspace one needs tx offload off.
  const tx = datapathType === 'netdev' ? await txChecksum(nic).catch(() => undefined) : undefined;
  if (tx) plan.txChecksum = tx;
  const rp = getRpFilter(nic);
  if (rp !== undefined) plan.rpFilter = rp;
  return plan;
}

async function apply(step: Step, p: BridgePlan, ovs: Ovs): Promise<void> {
  switch (step) {
    case 'create-bridge':
      await ovs.addBridgeWithNic(p.bridge, p.nic, p.mac, p.datapathType ?? 'netdev');
      // vswitchd creates the bridge's tap device asynchronously.
      await poll(`tap device ${p.bridge}`, 10_000, () => linkExists(p.bridge));
      return;
    case 'prepare-links':
      // AF_PACKET hands the userspace datapath packets with unfinished L4 checksums unless tx offload is off.
      if (p.txChecksum === 'on') await setTxChecksum(p.nic, 'off');
      await setLinkUp(p.bridge, p.mtu);
      return;
    case 'copy-addresses':
      for (const a of p.addresses) await addAddress(a, p.nic, p.bridge);
      return;
    case 'move-routes':
      for (const r of p.routes) await putRoute(r, p.bridge);
      return;
    case 'remove-nic-addresses':
      // Secondaries first: deleting a primary would take its secondaries with it.
      for (const a of [...p.addresses].reverse()) await delAddress(a, p.nic);
      return;
    case 'isolate-nic':
      // The userspace datapath reads the NIC through AF_PACKET, which does not take packets away from the kernel:
      // the host stack still sees every frame arriving on the NIC and, since the host IP is local (on the bridge),
      // answers segments of the gateway router's connections with RSTs. Strict reverse-path filtering on the NIC
      // makes the kernel drop them (the way back to any source is the bridge, not the NIC).
      if (p.rpFilter !== undefined) {
        setRpFilter(p.nic, '1');
        if (getRpFilter('all') === '2') {
          throw new Error('net.ipv4.conf.all.rp_filter is 2 (loose), which overrides the strict filter the NIC needs; set it to 0 or 1');
        }
      }
      return;
  }
}

async function revert(step: Step, p: BridgePlan, ovs: Ovs): Promise<void> {
  switch (step) {
    case 'isolate-nic':
      if (p.rpFilter !== undefined) setRpFilter(p.nic, p.rpFilter);
      return;
    case 'create-bridge':
      if (!p.bridgeExisted) await ovs.delBridge(p.bridge);
      return;
    case 'prepare-links':
      if (p.txChecksum === 'on') await setTxChecksum(p.nic, 'on');
      return;
    case 'copy-addresses':
      for (const a of [...p.addresses].reverse()) await delAddress(a, p.bridge).catch(ignoreMissing);
      return;
    case 'move-routes':
      for (const r of p.routes) await putRoute(r, p.nic);
      return;
    case 'remove-nic-addresses': {
      const have = new Set((await readLink(p.nic)).addresses.map((a) => `${a.local}/${a.prefixlen}`));
      for (const a of p.addresses) if (!have.has(`${a.local}/${a.prefixlen}`)) await addAddress(a, p.bridge, p.nic);
      return;
    }
  }
}

function ignoreMissing(err: unknown): void {
  if (!/Cannot assign requested address|No such device|does not exist/.test(String(err))) throw err;
}

/** Reverts the steps recorded in `p.done`, newest first, persisting progress so an interrupted rollback resumes. */
export async function rollback(p: BridgePlan, ovs: Ovs, store: PlanStore, log: Logger): Promise<void> {
  while (p.done.length > 0) {
    const step = p.done[p.done.length - 1]!;
    log.info(`rolling back ${step}`, { nic: p.nic, bridge: p.bridge });
    await revert(step, p, ovs);
    p.done.pop();
    p.complete = false;
    store.save(p);
  }
  store.remove(p.nic);
}

export type BridgeOutcome = 'bridged' | 'already-bridged';

export async function nicsToBridge(nic: string, ovs: Ovs, store: PlanStore, log: Logger): Promise<BridgeOutcome> {
  validateNic(nic);
  let plan = store.load(nic);
  if (plan?.complete) {
    if ((await ovs.bridgeExists(plan.bridge)) && (await ovs.portsOf(plan.bridge)).includes(nic)) {
      log.info(`${nic} is already bridged into ${plan.bridge}; nothing to do`);
      return 'already-bridged';
    }
    throw new Error(`${nic}: recorded as bridged into ${plan.bridge}, but the bridge or its port is gone; run with --undo to restore the recorded addresses first`);
  }
  if (plan) {
    log.warn(`found an unfinished plan for ${nic} (steps done: ${plan.done.join(', ') || 'none'}); rolling it back first`);
    await rollback(plan, ovs, store, log);
  }
  if (!(await linkExists(nic))) throw new Error(`NIC ${nic} not found`);
  plan = await makePlan(ovs, nic);
  if (plan.bridgeExisted && (await ovs.portsOf(plan.bridge)).includes(nic)) {
    throw new Error(`${nic} is already a port of ${plan.bridge} but no plan is recorded in ${store.dir}; refusing to guess its original configuration`);
  }
  store.save(plan);
  const failAfter = process.env[FAIL_AFTER_ENV];
  try {
    for (const step of STEPS) {
      log.info(`applying ${step}`, { nic, bridge: plan.bridge });
      plan.done.push(step); // recorded before applying: a half-applied step is reverted too
      store.save(plan);
      await apply(step, plan, ovs);
      if (failAfter === step) throw new Error(`injected failure after step ${step} (${FAIL_AFTER_ENV})`);
    }
  } catch (err) {
    log.error(`nics-to-bridge ${nic} failed, rolling back: ${(err as Error).message}`);
    try {
      await rollback(plan, ovs, store, log);
    } catch (rbErr) {
      throw new Error(`nics-to-bridge ${nic} failed (${(err as Error).message}) and rollback failed too (${(rbErr as Error).message}); the plan is kept in ${store.path(nic)}`);
    }
    throw err;
  }
  plan.complete = true;
  store.save(plan);
  log.info(`${nic} bridged into ${plan.bridge}`, { addresses: plan.addresses.length, routes: plan.routes.length });
  return 'bridged';
}

/** Restores the NIC from its recorded plan and removes the bridge (if we created it). */
export async function undoNicsToBridge(nic: string, ovs: Ovs, store: PlanStore, log: Logger): Promise<boolean> {
  validateNic(nic);
  const plan = store.load(nic);
  if (!plan) {
    log.info(`no nics-to-bridge plan recorded for ${nic}; nothing to undo`);
    return false;
  }
  await rollback(plan, ovs, store, log);
  log.info(`${nic} restored, ${plan.bridge} ${plan.bridgeExisted ? 'kept (it existed before)' : 'removed'}`);
  return true;
}
