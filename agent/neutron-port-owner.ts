// Whose Neutron port a baremetal pod names (Kuryr's layout, --neutron-ports). Anyone who may patch the pod can
// write its iface_id, and ovn-controller (OVN 23.03) claims every port a br-int interface names unless the port's
// requested-chassis is another host: an unbound port, or one bound to this node (a VM's here, another pod's), would
// move to the pod. So the agent plugs a pod only into the port made for that very pod, by what its owner cannot
// write: the watcher gives the port device_owner `tessera:pod` and device_id = the pod's uid; Neutron's OVN driver
// keeps both in the switch port's external_ids, and ovn-northd copies those into the port's Port_Binding, which the
// agent reads from the Southbound database (no Neutron credentials, no Northbound access).
import type { V1Pod } from '@kubernetes/client-node';
import { CniError, CniErrorCode, type AgentRequest } from '../lib/cni-protocol.js';
import { POD_NETWORKS_ANNOTATION, type PodNetwork } from '../lib/kube/annotations.js';
import type { Logger } from '../lib/log.js';
import { POD_PORT_DEVICE_OWNER } from '../lib/neutron/types.js';
import { OvsdbClient, type TlsOptions } from '../lib/ovsdb/index.js';
import { SB_MODEL, type PortBinding, type SBTables } from '../lib/ovsdb/models/sb.js';
import { AGENT_FAILURE, type HandlerDeps } from './cni-deps.js';
import { WaitTimeout } from './kube.js';
import type { VswitchClient } from './ovs-ports.js';
import { podRef, waitForPodNetwork } from './pod-network.js';
import { southboundRemotes } from './southbound.js';

export type PortOwnerRow = Pick<PortBinding, 'type' | 'external_ids'>;

/** Reads one Port_Binding by logical port name (undefined: none). */
export interface PortBindingLookup {
  get(logicalPort: string): Promise<PortOwnerRow | undefined>;
}

const quoted = (v: string | undefined): string => JSON.stringify(v ?? '').slice(0, 80);

/** Why the port named `portId` is not the pod's own, or undefined when it is. */
export function portOwnerProblem(portId: string, row: PortOwnerRow | undefined, podUid: string): string | undefined {
  if (!row) return `iface_id ${portId} names no port in the Southbound database`;
  if (row.type !== '') return `iface_id ${portId} is an OVN ${quoted(row.type)} port, not a pod's`;
  const owner = row.external_ids['neutron:device_owner'];
  const device = row.external_ids['neutron:device_id'];
  if (owner === POD_PORT_DEVICE_OWNER && podUid !== '' && device === podUid) return undefined;
  return `iface_id ${portId} is not this pod's Neutron port: its device_owner is ${quoted(owner)} and device_id ${quoted(device)}, ` +
    `not "${POD_PORT_DEVICE_OWNER}" and the pod's uid ${podUid}`;
}

/** Port_Bindings read on demand (one select per ADD) from the SB ovn-controller uses; connected at first use. */
export class SouthboundPortBindings implements PortBindingLookup {
  private sb?: Promise<OvsdbClient<SBTables>>;

  constructor(private readonly ovs: VswitchClient, private readonly tls: TlsOptions | undefined, private readonly log: Logger) {}

  async get(logicalPort: string): Promise<PortOwnerRow | undefined> {
    try {
      const sb = await this.client();
      const [r] = await sb.transact([sb.op.select('Port_Binding', [['logical_port', '==', logicalPort]], ['type', 'external_ids'])], { timeoutMs: 5000 });
      return r.rows[0];
    } catch (err) {
      throw new CniError(CniErrorCode.TryAgainLater, `cannot read Neutron port ${logicalPort}'s Port_Binding from the Southbound database: ${(err as Error).message}`);
    }
  }

  close(): void {
    void this.sb?.then((c) => c.close(), () => undefined);
  }

  private client(): Promise<OvsdbClient<SBTables>> {
    if (!this.sb) {
      const at = southboundRemotes(this.ovs, this.tls);
      if ('why' in at) return Promise.reject(new Error(at.why));
      this.sb = OvsdbClient.connect(SB_MODEL, { remotes: at.remotes, tls: this.tls, leaderOnly: false, logger: this.log, initialTimeoutMs: 5000 });
      this.sb.catch(() => (this.sb = undefined));
    }
    return this.sb;
  }
}

/**
 * ADD's wait for the pod's network, plus, for a Neutron port, that the port is the pod's own. A port that is not
 * is never wired: like any bad annotation the wait goes on (the watcher writes back the pod's own port id; the
 * port's rows are read again every second), and ADD fails naming the port once the annotation bound passes.
 */
export async function waitForOwnedPodNetwork(req: AgentRequest, d: HandlerDeps): Promise<{ pod: V1Pod; net: PodNetwork }> {
  const timeout = req.config.annotationTimeoutMs;
  const deadline = Date.now() + timeout;
  // No node subnet here: a --neutron-ports node has none (its pods carry Neutron's addressing).
  const { ns, name } = podRef(req);
  const where = `pod ${ns}/${name}`;
  for (;;) {
    const left = Math.max(0, deadline - Date.now());
    const got = await waitForPodNetwork({ ...req, config: { ...req.config, annotationTimeoutMs: left } }, d, timeout);
    if (got.net.iface_id === undefined) return got;
    if (!d.portBindings) throw new CniError(AGENT_FAILURE, `${where}: iface_id ${got.net.iface_id} is set, but this agent cannot read the Southbound database`);
    const problem = portOwnerProblem(got.net.iface_id, await d.portBindings.get(got.net.iface_id), got.pod.metadata?.uid ?? '');
    if (!problem) return got;
    const seen = got.pod.metadata?.annotations?.[POD_NETWORKS_ANNOTATION];
    const now = Math.max(0, deadline - Date.now());
    if (now === 0) throw new CniError(AGENT_FAILURE, `${where}: annotation ${POD_NETWORKS_ANNOTATION}: ${problem} (not corrected within ${timeout} ms)`);
    await d.pods.waitFor(name, ns, (p) => p.metadata?.annotations?.[POD_NETWORKS_ANNOTATION] !== seen, Math.min(now, 1000)).catch((e: unknown) => {
      if (!(e instanceof WaitTimeout)) throw e;
    });
  }
}
