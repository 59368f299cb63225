// Removing an interconnection: advertising and learning off first (ovn-ic withdraws what it published), then
// the ts ports, learned routes, our NB_Global records and this AZ's IC-SB rows; the AZ name goes last.
import { CLUSTER_ROUTER } from '../../lib/ovn/names.js';
import type { IcConfig } from './config.js';
import { clearAzNameOps, forgetNbGlobalOps, removeLearnedRoutesOps, removeTsPortOps, routesOffOps } from '../../lib/ovn/interconnect.js';
import type { IcContext } from './context.js';

/** Polls (bounded) until `done`; used only while our own ovn-ic withdraws what it published. */
async function settle(c: IcContext, what: string, done: () => boolean, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (!done() && Date.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 50));
  c.log.debug(`teardown: ${what} ${done() ? 'done' : 'timed out'} after ${Date.now() - t0} ms`);
}

export async function teardownInterconnect(c: IcContext, config: IcConfig): Promise<void> {
  const az = config.azName;
  c.log.info('removing interconnection', { az });
  const conn = c.ic;
  const icsb = conn?.icsb;
  const azRow = icsb?.cache.lookup('Availability_Zone', 'name', az);
  const ours = (t: 'Route' | 'Port_Binding'): boolean => !!(icsb && azRow && icsb.cache.find(t, (r) => r.availability_zone === azRow._uuid));
  const live = !!(icsb && azRow && c.ovnIc?.running);
  // 1. Advertising and learning off while the ts port still exists: ovn-ic withdraws our routes from IC-SB and
  //    its learned routes from NB (it stops looking at a router once the router leaves ts).
  await c.nb.transact(routesOffOps(c.nb));
  if (live) await settle(c, 'route withdrawal', () => !ours('Route'), 3000);
  // 2. The ts ports, anything still learned, our options and records.
  const router = c.nb.cache.lookup('Logical_Router', 'name', CLUSTER_ROUTER);
  await c.nb.transact([
    ...removeTsPortOps(c.nb, az, config.tsName),
    ...removeLearnedRoutesOps(c.nb, router),
    ...forgetNbGlobalOps(c.nb),
  ]);
  await c.kube.syncGatewayLabels([]);
  c.labelsSynced = undefined;
  if (live) await settle(c, 'port binding withdrawal', () => !ours('Port_Binding'), 3000);
  await c.ovnIc?.stop();
  if (conn?.icsb && azRow) {
    const icsb = conn.icsb;
    const u = azRow._uuid;
    try {
      await icsb.transact([
        icsb.op.delete('Route', [['availability_zone', '==', u]]),
        icsb.op.delete('Port_Binding', [['availability_zone', '==', u]]),
        icsb.op.delete('Gateway', [['availability_zone', '==', u]]),
        icsb.op.delete('Availability_Zone', [['_uuid', '==', azRow._uuid]]),
      ]);
    } catch (err) {
      c.log.warn('could not remove this AZ from IC-SB; peers keep a stale entry until an IC-SB admin removes it', { az, error: err instanceof Error ? err.message : String(err) });
    }
  }
  c.closeIc();
  // The AZ name goes last: with ovn-ic stopped nothing re-registers it.
  await c.nb.transact(clearAzNameOps(c.nb));
  for (const k of [...c.reported]) if (!k.startsWith('refused:') && !k.startsWith('invalid:')) c.reported.delete(k);
  c.log.info('interconnection removed', { az });
}
