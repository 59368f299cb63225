// Nested nodes: a Node whose tessera.io/nested-parent-port names the logical switch port of the VM it runs in. The
// watcher attaches child ports (the node's pods, one VLAN tag each) to that port, so it checks the name first: it
// must be a VM's port, i.e. an existing plain port (type "") that is nobody's child and not Tessera's own (pods,
// management, router and transit ports all carry Tessera's owner id), and no other Node may name it.
import type { V1Node } from '@kubernetes/client-node';
import { NODE_NESTED_PARENT_ANNOTATION } from '../../lib/kube/annotations.js';
import { OWNER_KEY } from '../../lib/ovn/names.js';
import type { Cache } from '../../lib/ovsdb/cache.js';
import type { NBTables } from '../../lib/ovsdb/models/nb.js';

/** An OVN port name: printable, no spaces or quotes, bounded (it lands in NB and in a pod's annotation). */
const PORT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

export type NestedParent = { parent: string } | { problem: string };

/** The node's nested parent port, or why it cannot be one; undefined when the node is not nested. */
export function nestedParent(node: V1Node | undefined, nodes: V1Node[], nb: Cache<NBTables>): NestedParent | undefined {
  const raw = node?.metadata?.annotations?.[NODE_NESTED_PARENT_ANNOTATION];
  if (raw === undefined) return undefined;
  const problem = parentProblem(raw, node?.metadata?.name ?? '', nodes, nb);
  return problem ? { problem: `${NODE_NESTED_PARENT_ANNOTATION} ${JSON.stringify(raw)}: ${problem}` } : { parent: raw };
}

function parentProblem(name: string, nodeName: string, nodes: V1Node[], nb: Cache<NBTables>): string | undefined {
  if (!PORT_NAME_RE.test(name)) return 'is not a logical switch port name';
  const lsp = nb.lookup('Logical_Switch_Port', 'name', name);
  if (!lsp) return 'no such logical switch port';
  if (lsp.external_ids[OWNER_KEY]) return `is Tessera's own port (${OWNER_KEY}=${lsp.external_ids[OWNER_KEY]}), not a VM's`;
  if (lsp.type !== '') return `is a port of type "${lsp.type}", not a VM's`;
  if (lsp.parent_name) return `is itself a child of ${lsp.parent_name}`;
  const other = nodes.find((n) => n.metadata?.name !== nodeName && n.metadata?.annotations?.[NODE_NESTED_PARENT_ANNOTATION] === name);
  if (other) return `Node ${other.metadata?.name} names the same port`;
  return undefined;
}
