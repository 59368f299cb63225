// What `diagnose` reads once: Kubernetes objects, NB and SB rows, and each node's OVS interfaces, ovn-controller
// connection and table-65 flows. The checks (checks-*.ts) are pure functions of it.
import type { V1ConfigMap, V1Node, V1Pod } from '@kubernetes/client-node';
import { apiErrorCode } from '../../lib/kube/client.js';
import { NB_MODEL, type LogicalSwitch, type LogicalSwitchPort } from '../../lib/ovsdb/models/nb.js';
import { SB_MODEL, type Chassis, type DatapathBinding, type Encap, type PortBinding } from '../../lib/ovsdb/models/sb.js';
import { openNb, openSb } from '../db.js';
import type { Target } from '../target.js';
import { dbHealth, type DbHealth } from './db-health.js';

export interface OvsInterface {
  name: string;
  externalIds: Record<string, string>;
}

export interface NodeView {
  name: string;
  /** The node's tools could not be run (netns or agent pod gone). */
  error?: string;
  interfaces: OvsInterface[];
  /** `ovs-appctl -t ovn-controller connection-status`: "connected", else the failure. */
  controller: { ok: boolean; detail: string };
  /** `ovs-ofctl dump-flows br-int table=65`, if it could be read. */
  table65?: string;
}

export interface Snapshot {
  nodes: V1Node[];
  pods: V1Pod[];
  nb: DbHealth & { lsps: LogicalSwitchPort[]; switches: LogicalSwitch[] };
  sb: DbHealth & { chassis: Chassis[]; encaps: Encap[]; bindings: PortBinding[]; datapaths: DatapathBinding[] };
  ovs: NodeView[];
  icConfig?: V1ConfigMap;
  icStatus?: V1ConfigMap;
  /** The watcher's /metrics text, or why it could not be read. */
  watcherMetrics: { text?: string; error?: string };
}

async function configMap(t: Target, name: string): Promise<V1ConfigMap | undefined> {
  try {
    return await t.kube.core.readNamespacedConfigMap({ namespace: 'kube-system', name });
  } catch (err) {
    if (apiErrorCode(err) === 404) return undefined;
    throw err;
  }
}

/** "map" cells of ovs-vsctl --format=json: ["map", [[k, v], ...]]. */
function mapCell(v: unknown): Record<string, string> {
  return Array.isArray(v) && v[0] === 'map' && Array.isArray(v[1]) ? Object.fromEntries((v[1] as Array<[string, string]>).map(([k, x]) => [k, String(x)])) : {};
}

async function nodeView(t: Target, name: string): Promise<NodeView> {
  let n;
  try {
    n = await t.node(name);
  } catch (err) {
    return { name, error: (err as Error).message, interfaces: [], controller: { ok: false, detail: (err as Error).message } };
  }
  const [ifs, conn, flows] = await Promise.all([
    n.run('ovs-vsctl', ['--timeout=10', '--format=json', '--columns=name,external_ids', 'list', 'Interface']),
    n.run('ovs-appctl', ['-T', '5', '-t', 'ovn-controller', 'connection-status']),
    n.run('ovs-ofctl', ['--timeout=10', 'dump-flows', 'br-int', 'table=65']),
  ]);
  const view: NodeView = { name, interfaces: [], controller: { ok: conn.code === 0 && conn.stdout.trim() === 'connected', detail: (conn.stdout || conn.stderr).trim().split('\n')[0] } };
  if (ifs.code !== 0) view.error = `ovs-vsctl on ${n.where}: ${ifs.stderr.trim().split('\n')[0]}`;
  else view.interfaces = (JSON.parse(ifs.stdout) as { data: unknown[][] }).data.map((r) => ({ name: String(r[0]), externalIds: mapCell(r[1]) }));
  if (flows.code === 0) view.table65 = flows.stdout;
  return view;
}

export async function takeSnapshot(t: Target): Promise<Snapshot> {
  const [nodes, pods, icConfig, icStatus] = await Promise.all([
    t.kube.core.listNode().then((l) => l.items),
    t.kube.core.listPodForAllNamespaces().then((l) => l.items),
    configMap(t, 'ovn-ic-config'),
    configMap(t, 'ovn-ic-status'),
  ]);
  const [nbH, sbH] = await Promise.all([dbHealth(t.nb, NB_MODEL), dbHealth(t.sb, SB_MODEL)]);
  const nb = { ...nbH, lsps: [] as LogicalSwitchPort[], switches: [] as LogicalSwitch[] };
  if (nbH.reachable) {
    const db = await openNb(t.nb);
    try {
      [nb.lsps, nb.switches] = await Promise.all([db.rows('Logical_Switch_Port'), db.rows('Logical_Switch')]);
    } finally {
      db.close();
    }
  }
  const sb = { ...sbH, chassis: [] as Chassis[], encaps: [] as Encap[], bindings: [] as PortBinding[], datapaths: [] as DatapathBinding[] };
  if (sbH.reachable) {
    const db = await openSb(t.sb);
    try {
      [sb.chassis, sb.encaps, sb.bindings, sb.datapaths] = await Promise.all([db.rows('Chassis'), db.rows('Encap'), db.rows('Port_Binding'), db.rows('Datapath_Binding')]);
    } finally {
      db.close();
    }
  }
  const ovs = await Promise.all(nodes.map((n) => nodeView(t, n.metadata?.name ?? '')));
  let watcherMetrics: Snapshot['watcherMetrics'] = { error: 'not reachable from here (give --watcher-metrics URL)' };
  if (t.watcherMetrics) watcherMetrics = await t.watcherMetrics().then((text) => ({ text }), (e: Error) => ({ error: e.message }));
  return { nodes, pods, nb, sb, ovs, ...(icConfig ? { icConfig } : {}), ...(icStatus ? { icStatus } : {}), watcherMetrics };
}
