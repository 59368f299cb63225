// The CNI verbs as the agent serves them for the tessera-cni shim: ADD, DEL, CHECK, GC, STATUS.
// ADD keeps a list of what it created and undoes it on any failure, so a failed ADD leaves nothing behind.
import { isolateHostVeth } from './host-veth.js';
import type { V1Pod } from '@kubernetes/client-node';
import {
  CniError,
  CniErrorCode,
  hostVethName,
  type AgentRequest,
  type AgentResponse,
  type CniRoute,
  type Result1x,
} from '../lib/cni-protocol.js';
import { DEFAULT_NETWORK, parsePodNetworks, POD_NETWORKS_ANNOTATION, type PodNetwork } from '../lib/kube/annotations.js';
import { podPort } from '../lib/names.js';
import { OvsdbDisconnectedError, OvsdbTimeoutError } from '../lib/ovsdb/index.js';
import { inspectPod, NetdevError, sameAddress, sameNet, type NodeNetdev } from '../lib/netdev/index.js';
import { parseInterfaceAddress, parseIP } from '../lib/ipnet/index.js';
import type { Logger } from '../lib/log.js';
import type { Informer } from '../lib/kube/informer.js';
import { WaitTimeout } from './kube.js';
import { IFACE_ID, OVN_INSTALLED, SANDBOX, type OvsPorts } from './ovs-ports.js';

/** Plugin-specific error code (CNI reserves 1-99): the agent failed while doing the work. */
export const AGENT_FAILURE = 100;


export interface HandlerDeps {
  nodeName: string;
  mtu: number;
  log: Logger;
  pods: Informer<V1Pod>;
  ports: OvsPorts;
  netdev: NodeNetdev;
  /** undefined when ready, else why not. */
  notReady(): string | undefined;
  /** Host veth names of ADDs in progress: the reconciler leaves them alone. */
  inflight: Set<string>;
}

export async function handle(req: AgentRequest, d: HandlerDeps): Promise<AgentResponse> {
  try {
    switch (req.command) {
      case 'ADD':
        return { ok: true, result: await cmdAdd(req, d) };
      case 'DEL':
        await cmdDel(req, d);
        return { ok: true };
      case 'CHECK':
        cmdCheck(req, d);
        return { ok: true };
      case 'GC':
        await cmdGc(req, d);
        return { ok: true };
      case 'STATUS': {
        const why = d.notReady();
        return why ? { ok: false, code: CniErrorCode.PluginNotAvailable, msg: `tessera-agent is not ready: ${why}` } : { ok: true };
      }
    }
  } catch (err) {
    return toErrorResponse(err);
  }
}

export function toErrorResponse(err: unknown): AgentResponse {
  if (err instanceof CniError) return { ok: false, code: err.code, msg: err.message, ...(err.details ? { details: err.details } : {}) };
  if (err instanceof OvsdbDisconnectedError) return { ok: false, code: CniErrorCode.TryAgainLater, msg: `OVS database not connected: ${err.message}` };
  const e = err instanceof Error ? err : new Error(String(err));
  return { ok: false, code: AGENT_FAILURE, msg: e.message, ...(e instanceof NetdevError ? {} : { details: e.stack?.split('\n').slice(1, 4).join('\n') }) };
}

function podRef(req: AgentRequest): { ns: string; name: string } {
  if (!req.podNamespace || !req.podName) {
    throw new CniError(CniErrorCode.InvalidEnvironment, 'CNI_ARGS must carry K8S_POD_NAMESPACE and K8S_POD_NAME');
  }
  return { ns: req.podNamespace, name: req.podName };
}

function defaultNetwork(pod: V1Pod): PodNetwork | undefined {
  const raw = pod.metadata?.annotations?.[POD_NETWORKS_ANNOTATION];
  if (!raw) return undefined;
  return parsePodNetworks(raw)?.[DEFAULT_NETWORK];
}

function validNetwork(n: PodNetwork, where: string): void {
  const bad = (what: string): never => {
    throw new CniError(AGENT_FAILURE, `${where}: ${what}`);
  };
  if (!Array.isArray(n.ip_addresses) || n.ip_addresses.length === 0) bad('no ip_addresses');
  for (const a of n.ip_addresses) {
    try {
      parseInterfaceAddress(a);
    } catch {
      bad(`ip address "${a}" is not in CIDR form`);
    }
  }
  if (typeof n.mac_address !== 'string' || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(n.mac_address)) bad(`mac_address "${String(n.mac_address)}" is invalid`);
  for (const g of n.gateway_ips ?? []) {
    try {
      parseIP(g);
    } catch {
      bad(`gateway "${g}" is not an IP address`);
    }
  }
}

async function waitForPodNetwork(req: AgentRequest, d: HandlerDeps): Promise<{ pod: V1Pod; net: PodNetwork }> {
  const { ns, name } = podRef(req);
  const where = `pod ${ns}/${name}`;
  const matches = (p: V1Pod): boolean => {
    if (req.podUid && p.metadata?.uid !== req.podUid) return false;
    try {
      return defaultNetwork(p) !== undefined;
    } catch {
      return true; // malformed: stop waiting and report it below
    }
  };
  let pod: V1Pod;
  try {
    pod = await d.pods.waitFor(name, ns, matches, req.config.annotationTimeoutMs);
  } catch (err) {
    if (!(err instanceof WaitTimeout)) throw err;
    const msg = err.objectSeen
      ? `${where}: annotation ${POD_NETWORKS_ANNOTATION} not set within ${req.config.annotationTimeoutMs} ms`
      : `${where} not found on node ${d.nodeName} within ${req.config.annotationTimeoutMs} ms`;
    throw new CniError(CniErrorCode.TryAgainLater, msg);
  }
  let net: PodNetwork | undefined;
  try {
    net = defaultNetwork(pod);
  } catch (err) {
    throw new CniError(AGENT_FAILURE, `${where}: annotation ${POD_NETWORKS_ANNOTATION}: ${(err as Error).message}`);
  }
  if (!net) throw new CniError(AGENT_FAILURE, `${where}: annotation ${POD_NETWORKS_ANNOTATION} has no "${DEFAULT_NETWORK}" network`);
  validNetwork(net, `${where}: annotation ${POD_NETWORKS_ANNOTATION}`);
  return { pod, net };
}

function podRoutes(net: PodNetwork): CniRoute[] {
  const routes: CniRoute[] = [];
  const gw4 = (net.gateway_ips ?? []).find((g) => !g.includes(':'));
  if (gw4) routes.push({ dst: '0.0.0.0/0', gw: gw4 });
  for (const r of net.routes ?? []) routes.push({ dst: r.dest, gw: r.nextHop });
  return routes;
}

export async function cmdAdd(req: AgentRequest, d: HandlerDeps): Promise<Result1x> {
  const why = d.notReady();
  if (why) throw new CniError(CniErrorCode.TryAgainLater, `tessera-agent is not ready: ${why}`);
  const t0 = performance.now();
  const { pod, net } = await waitForPodNetwork(req, d);
  const t1 = performance.now();
  const hostName = hostVethName(req.containerId, req.ifname);
  const mtu = net.mtu ?? req.config.mtu ?? d.mtu;
  const routes = podRoutes(net);
  const mac = net.mac_address.toLowerCase();
  d.inflight.add(hostName);
  let vethMade = false;
  let portMade = false;
  try {
    // Leftovers of an earlier ADD of this attachment go first, and vswitchd must have dropped the old device
    // before a new one of the same name appears (else it keeps reading from the deleted veth).
    if (d.ports.port(hostName) || d.netdev.hostLink(hostName)) {
      await d.ports.deletePorts([hostName], 5000);
      d.netdev.deleteHostVeth(hostName);
    }
    const link = d.netdev.setupPod({
      netnsPath: req.netns,
      hostName,
      ifname: req.ifname,
      mac,
      mtu,
      addresses: net.ip_addresses,
      routes: routes.map((r) => ({ dst: r.dst, gw: r.gw })),
      txChecksumOff: d.ports.isNetdev(),
    });
    vethMade = true;
    if (d.ports.isNetdev()) isolateHostVeth(hostName);
    const t2 = performance.now();
    await d.ports.addPodPort({
      name: hostName,
      ifaceId: podPort(req.podNamespace!, req.podName!),
      mac,
      ipAddresses: net.ip_addresses,
      sandbox: req.containerId,
      podUid: pod.metadata?.uid ?? '',
      ifname: req.ifname,
    });
    portMade = true;
    const t3 = performance.now();
    try {
      await d.ports.waitInstalled(hostName, req.config.ovnInstalledTimeoutMs);
    } catch (err) {
      if (err instanceof OvsdbTimeoutError) {
        throw new CniError(CniErrorCode.TryAgainLater, `ovn-controller did not set ${OVN_INSTALLED} on ${hostName} within ${req.config.ovnInstalledTimeoutMs} ms`);
      }
      throw err;
    }
    const t4 = performance.now();
    d.log.info('ADD done', {
      pod: `${req.podNamespace}/${req.podName}`,
      container: req.containerId.slice(0, 12),
      port: hostName,
      ms: { annotation: +(t1 - t0).toFixed(1), netns: +(t2 - t1).toFixed(1), ovs: +(t3 - t2).toFixed(1), ovnInstalled: +(t4 - t3).toFixed(1) },
    });
    const gwFor = (cidr: string): string | undefined => {
      const v6 = cidr.includes(':');
      return (net.gateway_ips ?? []).find((g) => g.includes(':') === v6);
    };
    return {
      cniVersion: req.cniVersion,
      interfaces: [
        { name: hostName, mac: link.hostMac },
        { name: req.ifname, mac, mtu, sandbox: req.netns },
      ],
      ips: net.ip_addresses.map((address) => {
        const gateway = gwFor(address);
        return gateway ? { address, gateway, interface: 1 } : { address, interface: 1 };
      }),
      routes,
      dns: {},
    };
  } catch (err) {
    // Undo in reverse order; each step is best effort so that one failure does not keep the others from running.
    if (portMade) await d.ports.deletePorts([hostName], 2000).catch((e: Error) => d.log.warn('ADD cleanup: removing OVS port failed', { port: hostName, error: e.message }));
    if (vethMade) {
      try {
        d.netdev.deleteHostVeth(hostName);
      } catch (e) {
        d.log.warn('ADD cleanup: removing veth failed', { veth: hostName, error: (e as Error).message });
      }
    }
    if (err instanceof NetdevError) throw new CniError(AGENT_FAILURE, `pod ${req.podNamespace}/${req.podName}: ${err.message}`);
    throw err;
  } finally {
    d.inflight.delete(hostName);
  }
}

export async function cmdDel(req: AgentRequest, d: HandlerDeps): Promise<void> {
  const hostName = hostVethName(req.containerId, req.ifname);
  const ports = d.ports.attachmentPorts(hostName, req.containerId, req.ifname);
  const removed = await d.ports.deletePorts(ports);
  const veth = d.netdev.deleteHostVeth(hostName);
  d.log.info('DEL done', { container: req.containerId.slice(0, 12), ifname: req.ifname, portsRemoved: removed, vethRemoved: veth });
}

export function cmdCheck(req: AgentRequest, d: HandlerDeps): void {
  const prev = req.prevResult;
  if (!prev) throw new CniError(CniErrorCode.InvalidNetworkConfig, 'CHECK needs prevResult');
  const fail = (msg: string): never => {
    throw new CniError(AGENT_FAILURE, `CHECK ${req.ifname} in ${req.netns}: ${msg}`);
  };
  const ifaces = prev.interfaces ?? [];
  const idx = ifaces.findIndex((i) => i.name === req.ifname && i.sandbox === req.netns);
  if (idx < 0) fail('prevResult has no interface with that name and sandbox');
  const want = ifaces[idx];
  const state = inspectPod(req.netns, req.ifname);
  if (!state.link) fail('interface is missing');
  if (want.mac && state.link!.mac !== want.mac.toLowerCase()) fail(`MAC is ${state.link!.mac}, expected ${want.mac}`);
  if (want.mtu && state.link!.mtu !== want.mtu) fail(`MTU is ${state.link!.mtu}, expected ${want.mtu}`);
  for (const ip of (prev.ips ?? []).filter((i) => i.interface === idx)) {
    if (!state.addresses.some((a) => sameAddress(a, ip.address))) fail(`address ${ip.address} is missing`);
  }
  for (const r of prev.routes ?? []) {
    if (!state.routes.some((s) => sameNet(s.dst, r.dst) && (r.gw === undefined || s.gw === r.gw))) fail(`route ${r.dst}${r.gw ? ` via ${r.gw}` : ''} is missing`);
  }
  const hostName = hostVethName(req.containerId, req.ifname);
  const iface = d.ports.iface(hostName);
  if (!iface || !d.ports.port(hostName)) fail(`OVS port ${hostName} is missing`);
  if (req.podNamespace && req.podName && iface!.external_ids[IFACE_ID] !== podPort(req.podNamespace, req.podName)) {
    fail(`OVS port ${hostName} has iface-id ${iface!.external_ids[IFACE_ID]}, expected ${podPort(req.podNamespace, req.podName)}`);
  }
  if (iface!.external_ids[SANDBOX] !== req.containerId) fail(`OVS port ${hostName} belongs to sandbox ${iface!.external_ids[SANDBOX]}`);
  if (iface!.external_ids[OVN_INSTALLED] !== 'true') fail(`OVS port ${hostName} is not ${OVN_INSTALLED}`);
  if (!d.netdev.hostLink(hostName)) fail(`host veth ${hostName} is missing`);
}

export async function cmdGc(req: AgentRequest, d: HandlerDeps): Promise<void> {
  const valid = new Set((req.validAttachments ?? []).map((a) => `${a.containerId}/${a.ifname}`));
  const stale = d.ports
    .podInterfaces()
    .filter((i) => !valid.has(`${i.external_ids[SANDBOX]}/${i.external_ids['tessera.io/ifname']}`) && !d.inflight.has(i.name));
  const names = stale.map((i) => i.name);
  const removed = await d.ports.deletePorts(names);
  for (const n of names) d.netdev.deleteHostVeth(n);
  d.log.info('GC done', { valid: valid.size, removed, ports: names });
}
