// cleanup: remove everything the gateway created, newest first: NB rows, bridge flows, the bridge mapping, then the
// bridge itself with the NIC's addresses and routes restored from the recorded nics-to-bridge plan.
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../lib/log.js';
import { removeGateway, type Nb } from './nb.js';
import { PlanStore, undoNicsToBridge } from './nics-to-bridge.js';
import type { Ovs } from './ovs.js';
import { NodeStateStore } from './state.js';
import { setRpFilter } from './sysctl.js';

const MAPPINGS_KEY = 'ovn-bridge-mappings';

/** NICs whose recorded nics-to-bridge plan targets `bridge`. */
function plannedNics(store: PlanStore, bridge: string): string[] {
  const d = join(store.dir, 'nics-to-bridge');
  if (!existsSync(d)) return [];
  return readdirSync(d)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .filter((nic) => store.load(nic)?.bridge === bridge);
}

export async function cleanup(o: { node: string; stateDir: string; ovs: Ovs; nb?: Nb; log: Logger }): Promise<void> {
  const { node, ovs, log } = o;
  if (o.nb) {
    const n = await removeGateway(o.nb, node);
    log.info(n > 0 ? `removed the gateway's NB rows for ${node} (${n} ops)` : `no NB rows of the gateway left for ${node}`);
  } else {
    log.warn('no --nb given: NB rows (GR, ext switch, routes, load balancers) are left in place');
  }
  const states = new NodeStateStore(o.stateDir);
  const st = states.load(node);
  if (!st) {
    log.info(`no gateway state recorded for ${node} in ${o.stateDir}; nothing to restore on the node`);
    return;
  }
  // Bridge mapping back to what it was; ovn-controller then removes its patch port.
  if (st.mappingsBefore === null) await ovs.removeOvsExternalId(MAPPINGS_KEY);
  else await ovs.setOvsExternalId(MAPPINGS_KEY, st.mappingsBefore);
  if (st.rpFilterBefore) setRpFilter(st.rpFilterBefore.nic, st.rpFilterBefore.value);
  const plans = new PlanStore(o.stateDir);
  const nics = plannedNics(plans, st.bridge);
  if (nics.length === 0 && (await ovs.bridgeExists(st.bridge))) {
    // A bridge the gateway did not create: leave it, but as a plain switch again.
    await ovs.replaceFlows(st.bridge, ['table=0,priority=0,actions=NORMAL']);
    log.info(`${st.bridge} was not created by the gateway; its flows are back to NORMAL`);
  }
  for (const nic of nics) await undoNicsToBridge(nic, ovs, plans, log);
  states.remove(node);
  log.info(`gateway state of ${node} removed`);
}
