// Nested (trunk) side of the Neutron pod-port mode: validating a nested node's parent port before any pod port is
// hung from it, and adding / removing a pod port as a VLAN subport of the parent's trunk.
import { NeutronApiError, type NeutronClient } from '../../lib/neutron/client.js';
import { POD_PORT_DEVICE_OWNER, type NeutronPort, type TrunkSubport } from '../../lib/neutron/types.js';
import { NODE_NESTED_PARENT_ANNOTATION } from '../../lib/kube/annotations.js';
import { NEUTRON_ID_RE } from './config.js';
import { NEUTRON_REASON, NeutronRefusal } from './problems.js';
import { freeVlan, TAG_TESSERA } from './translate.js';

export interface ParentTrunk {
  parentId: string;
  trunkId: string;
  subPorts: TrunkSubport[];
}

const refuse = (node: string, msg: string): NeutronRefusal =>
  new NeutronRefusal(NEUTRON_REASON.parentRefused, `Node ${node}: ${NODE_NESTED_PARENT_ANNOTATION} ${msg}`);

/**
 * The trunk of a nested node's parent port, after checking that the port is one pods may hang from: a Neutron port
 * of the configured project, the parent of a trunk of that project, and not itself a pod's port or a subport.
 * Whoever can annotate the Node writes its id, so anything else is refused (NeutronRefusal).
 */
export async function parentTrunk(api: NeutronClient, node: string, parentId: string): Promise<ParentTrunk> {
  if (!NEUTRON_ID_RE.test(parentId)) throw refuse(node, `"${parentId.slice(0, 64)}" is not a Neutron port id`);
  let parent: NeutronPort;
  try {
    parent = await api.getPort(parentId);
  } catch (e) {
    if (e instanceof NeutronApiError && e.status === 404) throw refuse(node, `names port ${parentId}, which Neutron does not have (in project ${api.projectId})`);
    throw e;
  }
  if (parent.project_id !== api.projectId) throw refuse(node, `names port ${parentId} of project ${parent.project_id}, not ${api.projectId}`);
  if (parent.tags?.includes(TAG_TESSERA) || parent.device_owner === POD_PORT_DEVICE_OWNER) throw refuse(node, `names port ${parentId}, a pod's port`);
  if (parent.device_owner === 'trunk:subport') throw refuse(node, `names port ${parentId}, a trunk subport`);
  if (!parent.trunk_details?.trunk_id) throw refuse(node, `names port ${parentId}, which is not the parent of a trunk`);
  const trunk = await api.getTrunk(parent.trunk_details.trunk_id);
  if (trunk.project_id !== api.projectId || trunk.port_id !== parentId) throw refuse(node, `names port ${parentId}, whose trunk ${trunk.id} is not the project's`);
  return { parentId, trunkId: trunk.id, subPorts: trunk.sub_ports };
}

/**
 * Subport adds, one at a time per trunk: each reads the trunk's subports from Neutron (the truth, also after a
 * restart) and takes the lowest free VLAN id, so two pods of one VM never pick the same id.
 */
export class TrunkSerializer {
  private readonly chains = new Map<string, Promise<unknown>>();

  /** Makes `portId` a VLAN subport of the trunk (or finds it already is); returns its VLAN id. */
  addSubport(api: NeutronClient, trunkId: string, portId: string): Promise<number> {
    const run = async (): Promise<number> => {
      const t = await api.getTrunk(trunkId);
      const have = t.sub_ports.find((s) => s.port_id === portId);
      if (have) return have.segmentation_id;
      const vlan = freeVlan(trunkId, t.sub_ports.map((s) => s.segmentation_id));
      await api.addSubports(trunkId, [{ port_id: portId, segmentation_type: 'vlan', segmentation_id: vlan }]);
      return vlan;
    };
    const next = (this.chains.get(trunkId) ?? Promise.resolve()).then(run, run);
    this.chains.set(trunkId, next.catch(() => undefined));
    return next;
  }
}

/** Removes the port from whichever trunk of the project holds it (Neutron refuses to delete a subport). */
export async function detachSubport(api: NeutronClient, portId: string): Promise<void> {
  for (const t of await api.listTrunks({ project_id: api.projectId })) {
    if (t.sub_ports.some((s) => s.port_id === portId)) await api.removeSubports(t.id, [portId]);
  }
}
