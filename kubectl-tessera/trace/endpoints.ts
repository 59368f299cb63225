// Resolves the two ends of `kubectl tessera trace`: the source pod's real port (inport, MAC, IP, switch) from its
// annotation and NB, the destination (pod, service or IP) and the L2 destination the pod would address.
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { ConfigError } from '../../lib/cli.js';
import { POD_NETWORKS_ANNOTATION, parsePodNetworks } from '../../lib/kube/annotations.js';
import { apiErrorCode, type KubeClients } from '../../lib/kube/client.js';
import { podPort } from '../../lib/ovn/names.js';
import type { NBTables } from '../../lib/ovsdb/models/nb.js';
import type { Db } from '../db.js';

export type Proto = 'tcp' | 'udp' | 'icmp';

export interface Source {
  id: string;
  node: string;
  inport: string;
  mac: string;
  ip: string;
  logicalSwitch: string;
}

export interface Destination {
  /** "ns/pod", "ns/svc" or the IP. */
  id: string;
  kind: 'pod' | 'service' | 'ip';
  ip: string;
  port?: number;
  /** The pod's MAC when it sits on the source's switch (same L2). */
  sameSwitchMac?: string;
}

/** "ns/name" or "name" (namespace from -n), with an optional ":port". */
export function splitRef(ref: string, namespace: string): { namespace: string; name: string; port?: number } {
  const m = /^(?:([a-z0-9.-]+)\/)?([a-z0-9.-]+)(?::(\d+))?$/.exec(ref);
  if (!m) throw new ConfigError(`"${ref}": want NAMESPACE/NAME[:PORT]`);
  return { namespace: m[1] ?? namespace, name: m[2], ...(m[3] ? { port: Number(m[3]) } : {}) };
}

async function getPod(kube: KubeClients, namespace: string, name: string): Promise<V1Pod | undefined> {
  try {
    return await kube.core.readNamespacedPod({ namespace, name });
  } catch (err) {
    if (apiErrorCode(err) === 404) return undefined;
    throw err;
  }
}

function podAddress(pod: V1Pod): { ip: string; mac: string; logicalSwitch: string } {
  const id = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
  const net = parsePodNetworks(pod.metadata?.annotations?.[POD_NETWORKS_ANNOTATION])?.default;
  const ip = net?.ip_addresses?.[0]?.split('/')[0];
  if (!net || !ip || !net.mac_address) throw new ConfigError(`pod ${id} has no ${POD_NETWORKS_ANNOTATION} address (is it a hostNetwork pod, or not allocated yet?)`);
  return { ip, mac: net.mac_address, logicalSwitch: net.logical_switch || pod.spec?.nodeName || '' };
}

export async function resolveSource(kube: KubeClients, nb: Db<NBTables>, ref: string, namespace: string): Promise<Source> {
  const r = splitRef(ref, namespace);
  const pod = await getPod(kube, r.namespace, r.name);
  if (!pod) throw new ConfigError(`source pod ${r.namespace}/${r.name} not found`);
  const a = podAddress(pod);
  const inport = podPort(r.namespace, r.name);
  const [lsp] = (await nb.client.transact([nb.client.op.select('Logical_Switch_Port', [['name', '==', inport]])]))[0].rows;
  if (!lsp) throw new ConfigError(`source pod ${r.namespace}/${r.name}: no logical switch port ${inport} in NB`);
  return { id: `${r.namespace}/${r.name}`, node: pod.spec?.nodeName ?? '', inport, mac: a.mac, ip: a.ip, logicalSwitch: a.logicalSwitch };
}

const IPV4 = /^(\d{1,3}\.){3}\d{1,3}$/;

export async function resolveDestination(kube: KubeClients, ref: string, namespace: string, src: Source): Promise<Destination> {
  const ipm = /^([\d.]+)(?::(\d+))?$/.exec(ref);
  if (ipm && IPV4.test(ipm[1])) return { id: ipm[1], kind: 'ip', ip: ipm[1], ...(ipm[2] ? { port: Number(ipm[2]) } : {}) };
  const r = splitRef(ref, namespace);
  const pod = await getPod(kube, r.namespace, r.name);
  if (pod) {
    const a = podAddress(pod);
    return { id: `${r.namespace}/${r.name}`, kind: 'pod', ip: a.ip, port: r.port, ...(a.logicalSwitch === src.logicalSwitch ? { sameSwitchMac: a.mac } : {}) };
  }
  let svc: V1Service;
  try {
    svc = await kube.core.readNamespacedService({ namespace: r.namespace, name: r.name });
  } catch (err) {
    if (apiErrorCode(err) === 404) throw new ConfigError(`destination ${r.namespace}/${r.name}: no such pod or service`);
    throw err;
  }
  const ip = svc.spec?.clusterIP;
  if (!ip || ip === 'None') throw new ConfigError(`service ${r.namespace}/${r.name} has no cluster IP`);
  return { id: `${r.namespace}/${r.name}`, kind: 'service', ip, port: r.port ?? svc.spec?.ports?.[0]?.port };
}

/** The MAC of the router port on `ls` (the pod's default gateway), read from NB. */
export async function routerMac(nb: Db<NBTables>, ls: string): Promise<string> {
  const [sw] = (await nb.client.transact([nb.client.op.select('Logical_Switch', [['name', '==', ls]])]))[0].rows;
  if (!sw) throw new ConfigError(`logical switch ${ls} not in NB`);
  const lsps = (await nb.rows('Logical_Switch_Port')).filter((p) => sw.ports.includes(p._uuid) && p.type === 'router');
  const lrps = await nb.rows('Logical_Router_Port');
  for (const p of lsps) {
    const lrp = lrps.find((r) => r.name === p.options['router-port']);
    if (lrp) return lrp.mac;
  }
  throw new ConfigError(`logical switch ${ls} has no router port`);
}

/** ovn-trace's microflow for a new connection (or an echo request) from `src` to `dst`. */
export function microflow(src: Source, dst: Destination, ethDst: string, proto: Proto): string {
  const parts = [`inport == "${src.inport}"`, `eth.src == ${src.mac}`, `ip4.src == ${src.ip}`, `eth.dst == ${ethDst}`, `ip4.dst == ${dst.ip}`, 'ip.ttl == 64'];
  if (proto === 'icmp') parts.push('icmp4', 'icmp4.type == 8', 'icmp4.code == 0');
  else parts.push(proto, `${proto}.src == 40000`, `${proto}.dst == ${dst.port ?? 80}`);
  return parts.join(' && ');
}
