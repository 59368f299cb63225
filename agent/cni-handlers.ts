// The CNI verbs as the agent serves them for the tessera-cni shim: ADD, DEL, CHECK, GC, STATUS.
// ADD keeps a list of what it created and undoes it on any failure, so a failed ADD leaves nothing behind.
import { isolateHostVeth } from './host-veth.js';
import { CniError, CniErrorCode, hostVethName, type AgentRequest, type AgentResponse, type CniRoute, type Result1x } from '../lib/cni-protocol.js';
import type { PodNetwork } from '../lib/kube/annotations.js';
import { podPort } from '../lib/ovn/names.js';
import { OvsdbDisconnectedError, OvsdbTimeoutError } from '../lib/ovsdb/index.js';
import { NetdevError } from '../lib/netdev/index.js';
import { LockTimeout } from './attachment-lock.js';
import { cmdCheck } from './cni-check.js';
import { AGENT_FAILURE, type HandlerDeps } from './cni-deps.js';
import { OVN_INSTALLED, SANDBOX } from './ovs-ports.js';
import { openPodNetns } from './pod-netns.js';
import { podRoutes } from './pod-network.js';
import { waitForOwnedPodNetwork } from './neutron-port-owner.js';
import { closeSync } from 'node:fs';
import type { NestedDeps } from './nested/deps.js';
import { nestedAdd, nestedCheck, nestedDel, nestedGc } from './nested/handlers.js';

export { AGENT_FAILURE, type HandlerDeps } from './cni-deps.js';

/** The deps of either agent mode: a node with OVS, or a nested node (a VM) wiring VLAN links (agent/nested/). */
export type AnyHandlerDeps = HandlerDeps | NestedDeps;

export const isNested = (d: AnyHandlerDeps): d is NestedDeps => 'mode' in d && d.mode === 'nested';

interface Verbs {
  add(): Promise<Result1x>;
  del(): Promise<void>;
  check(): Promise<void>;
  gc(): Promise<void>;
}

/** The one place the verbs depend on the agent's mode. */
function verbsFor(req: AgentRequest, d: AnyHandlerDeps): Verbs {
  if (isNested(d)) return { add: () => nestedAdd(req, d), del: () => nestedDel(req, d), check: () => nestedCheck(req, d), gc: () => nestedGc(req, d) };
  return { add: () => cmdAdd(req, d), del: () => cmdDel(req, d), check: async () => cmdCheck(req, d), gc: () => cmdGc(req, d) };
}

/** Serves one request; every request is measured here, whichever path of the CNI server it came in by. */
export async function handle(req: AgentRequest, d: AnyHandlerDeps): Promise<AgentResponse> {
  const t0 = performance.now();
  const res = await dispatch(req, d);
  d.metrics?.request(req.command, (performance.now() - t0) / 1000, res);
  return res;
}

async function dispatch(req: AgentRequest, d: AnyHandlerDeps): Promise<AgentResponse> {
  const v = verbsFor(req, d);
  try {
    switch (req.command) {
      case 'ADD':
        return { ok: true, result: await serialised(req, d, v.add) };
      case 'DEL':
        await serialised(req, d, v.del);
        return { ok: true };
      case 'CHECK':
        await serialised(req, d, v.check);
        return { ok: true };
      case 'GC':
        await v.gc();
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

/**
 * Runs fn alone for its attachment and its pod. The wait is bounded by the request's own budget (the CNI server
 * answers "try again" after it), so a queued request gives up instead of doing its work after that answer.
 */
async function serialised<T>(req: AgentRequest, d: AnyHandlerDeps, fn: () => Promise<T>): Promise<T> {
  const keys = [`attachment:${req.containerId}/${req.ifname}`];
  if (req.podNamespace && req.podName) keys.push(`pod:${req.podNamespace}/${req.podName}`);
  const budget = Math.max(0, req.config.annotationTimeoutMs) + Math.max(0, req.config.ovnInstalledTimeoutMs);
  try {
    return await d.locks.run(keys, budget, fn);
  } catch (err) {
    if (err instanceof LockTimeout) throw new CniError(CniErrorCode.TryAgainLater, `${req.command}: another request for the same attachment or pod is still running (${err.message})`);
    throw err;
  }
}

export function toErrorResponse(err: unknown): AgentResponse {
  if (err instanceof CniError) return { ok: false, code: err.code, msg: err.message, ...(err.details ? { details: err.details } : {}) };
  if (err instanceof OvsdbDisconnectedError) return { ok: false, code: CniErrorCode.TryAgainLater, msg: `OVS database not connected: ${err.message}` };
  const e = err instanceof Error ? err : new Error(String(err));
  return { ok: false, code: AGENT_FAILURE, msg: e.message, ...(e instanceof NetdevError ? {} : { details: e.stack?.split('\n').slice(1, 4).join('\n') }) };
}

export async function cmdAdd(req: AgentRequest, d: HandlerDeps): Promise<Result1x> {
  const why = d.notReady();
  if (why) throw new CniError(CniErrorCode.TryAgainLater, `tessera-agent is not ready: ${why}`);
  const t0 = performance.now();
  const nsFd = openPodNetns(req.netns); // before the wait: a bad CNI_NETNS fails at once
  try {
    return await addAttachment(req, d, nsFd, t0);
  } finally {
    closeSync(nsFd);
  }
}

async function addAttachment(req: AgentRequest, d: HandlerDeps, nsFd: number, t0: number): Promise<Result1x> {
  const { pod, net } = await waitForOwnedPodNetwork(req, d);
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
      netnsFd: nsFd,
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
      // Kuryr baremetal: the Neutron port (validated in agent/neutron-port.ts) is the switch port ovn-controller binds.
      ifaceId: net.iface_id ?? podPort(req.podNamespace!, req.podName!),
      ...(net.iface_id ? { podPort: podPort(req.podNamespace!, req.podName!) } : {}),
      mac,
      ipAddresses: net.ip_addresses,
      sandbox: req.containerId,
      podUid: pod.metadata?.uid ?? '',
      ifname: req.ifname,
      logicalSwitch: net.logical_switch,
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
    if (d.metrics) {
      const h = d.metrics.addStage;
      h.observe({ stage: 'annotation' }, (t1 - t0) / 1000);
      h.observe({ stage: 'netns' }, (t2 - t1) / 1000);
      h.observe({ stage: 'ovs' }, (t3 - t2) / 1000);
      h.observe({ stage: 'ovn_installed' }, (t4 - t3) / 1000);
    }
    d.log.info('ADD done', {
      pod: `${req.podNamespace}/${req.podName}`,
      container: req.containerId.slice(0, 12),
      port: hostName,
      ms: { annotation: +(t1 - t0).toFixed(1), netns: +(t2 - t1).toFixed(1), ovs: +(t3 - t2).toFixed(1), ovnInstalled: +(t4 - t3).toFixed(1) },
    });
    return addResult(req, net, { name: hostName, mac: link.hostMac }, mtu, routes);
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

/** The CNI 1.x result: the host veth, the pod interface (index 1) and its addresses, gateways and routes. */
function addResult(req: AgentRequest, net: PodNetwork, host: { name: string; mac: string }, mtu: number, routes: CniRoute[]): Result1x {
  const gwFor = (cidr: string): string | undefined => {
    const v6 = cidr.includes(':');
    return (net.gateway_ips ?? []).find((g) => g.includes(':') === v6);
  };
  return {
    cniVersion: req.cniVersion,
    interfaces: [host, { name: req.ifname, mac: net.mac_address.toLowerCase(), mtu, sandbox: req.netns }],
    ips: net.ip_addresses.map((address) => {
      const gateway = gwFor(address);
      return gateway ? { address, gateway, interface: 1 } : { address, interface: 1 };
    }),
    routes,
    dns: {},
  };
}

export async function cmdDel(req: AgentRequest, d: HandlerDeps): Promise<void> {
  const hostName = hostVethName(req.containerId, req.ifname);
  const ports = d.ports.attachmentPorts(hostName, req.containerId, req.ifname);
  const removed = await d.ports.deletePorts(ports);
  const veth = d.netdev.deleteHostVeth(hostName);
  d.log.info('DEL done', { container: req.containerId.slice(0, 12), ifname: req.ifname, portsRemoved: removed, vethRemoved: veth });
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
