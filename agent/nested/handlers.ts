// The CNI verbs of a nested agent (a VM's node: no OVS, no ovn-controller). ADD puts a VLAN link of the VM's NIC
// into the pod netns with the annotated VLAN id, MAC, addresses and routes and the parent's MTU, and answers once the
// watcher reports OVN has the pod's port up; DEL removes the link, idempotently; CHECK compares it with prevResult.
// (On a kernel without 802.1Q the link is a veth tagged by tc programs: wiring.ts.)
import { closeSync, existsSync } from 'node:fs';
import { CniError, CniErrorCode, type AgentRequest, type CniRoute, type Result1x } from '../../lib/cni-protocol.js';
import { parsePodNetworks, DEFAULT_NETWORK, POD_NETWORKS_ANNOTATION } from '../../lib/kube/annotations.js';
import { inspectPod, NetdevError, sameAddress, sameNet } from '../../lib/netdev/index.js';
import { AGENT_FAILURE } from '../cni-deps.js';
import { openPodNetns, withPodNetns } from '../pod-netns.js';
import { podRef, podRoutes } from '../pod-network.js';
import type { NestedDeps } from './deps.js';
import { nestedPortName, waitForNestedNetwork, waitPortUp, type NestedNetwork } from './pod-network.js';
import { parentLink } from './vlan-link.js';
import { podVlanOf, unwirePod, wirePod } from './wiring.js';

export async function nestedAdd(req: AgentRequest, d: NestedDeps): Promise<Result1x> {
  const why = d.notReady();
  if (why) throw new CniError(CniErrorCode.TryAgainLater, `tessera-agent is not ready: ${why}`);
  const t0 = performance.now();
  const nsFd = openPodNetns(req.netns); // before the wait: a bad CNI_NETNS fails at once
  try {
    const { net } = await waitForNestedNetwork(req, d);
    const t1 = performance.now();
    const { ns, name } = podRef(req);
    const port = nestedPortName(net, ns, name);
    let made = false;
    try {
      const parent = parentLink(d.netdev, d.parentIface);
      const mtu = Math.min(net.mtu ?? parent.mtu ?? 1500, parent.mtu ?? 1500);
      const routes = podRoutes(net);
      // An earlier, interrupted ADD of this attachment leaves its interface: it goes first. Anything else of that name stays.
      if (unwirePod(d, req, nsFd).foreign) {
        throw new CniError(AGENT_FAILURE, `pod ${ns}/${name}: ${req.ifname} already exists in ${req.netns} and is not a VLAN of ${d.parentIface}`);
      }
      const mac = net.mac_address.toLowerCase();
      made = true;
      const driver = wirePod(d, req, { netnsPath: req.netns, netnsFd: nsFd, parent, vlanId: net.vlan, ifname: req.ifname, mac, mtu, addresses: net.ip_addresses, routes: routes.map((r) => ({ dst: r.dst, gw: r.gw })) });
      const t2 = performance.now();
      await waitPortUp(req, d, port, net.vlan);
      const t3 = performance.now();
      if (d.metrics) {
        const h = d.metrics.addStage;
        h.observe({ stage: 'annotation' }, (t1 - t0) / 1000);
        h.observe({ stage: 'netns' }, (t2 - t1) / 1000);
        h.observe({ stage: 'ovn_installed' }, (t3 - t2) / 1000);
      }
      d.log.info('ADD done', {
        pod: `${ns}/${name}`, container: req.containerId.slice(0, 12), port, vlan: net.vlan, driver,
        ms: { annotation: +(t1 - t0).toFixed(1), netns: +(t2 - t1).toFixed(1), ovnInstalled: +(t3 - t2).toFixed(1) },
      });
      return addResult(req, net, mtu, routes);
    } catch (err) {
      if (made) {
        try {
          unwirePod(d, req, nsFd);
        } catch (e) {
          d.log.warn('ADD cleanup: removing VLAN link failed', { ifname: req.ifname, error: (e as Error).message });
        }
      }
      if (err instanceof NetdevError) throw new CniError(AGENT_FAILURE, `pod ${ns}/${name}: ${err.message}`);
      throw err;
    }
  } finally {
    closeSync(nsFd);
  }
}

function addResult(req: AgentRequest, net: NestedNetwork, mtu: number, routes: CniRoute[]): Result1x {
  const gw = (net.gateway_ips ?? []).find((g) => !g.includes(':'));
  return {
    cniVersion: req.cniVersion,
    interfaces: [{ name: req.ifname, mac: net.mac_address.toLowerCase(), mtu, sandbox: req.netns }],
    ips: net.ip_addresses.map((address) => (gw && !address.includes(':') ? { address, gateway: gw, interface: 0 } : { address, interface: 0 })),
    routes,
    dns: {},
  };
}

/** Idempotent: a netns that is gone took its VLAN link with it. */
export async function nestedDel(req: AgentRequest, d: NestedDeps): Promise<void> {
  if (!req.netns || !existsSync(req.netns)) {
    const r = unwirePod(d, req, undefined); // a tagged veth's VM end may outlive a netns file that was unmounted
    d.log.info('DEL done', { container: req.containerId.slice(0, 12), ifname: req.ifname, vlanRemoved: r.removed, netns: 'gone' });
    return;
  }
  const r = withPodNetns(req.netns, (fd) => unwirePod(d, req, fd));
  d.log.info('DEL done', { container: req.containerId.slice(0, 12), ifname: req.ifname, vlanRemoved: r.removed, ...(r.foreign ? { left: 'not our VLAN link' } : {}) });
}

/** The pod interface is a VLAN of the parent with the pod's annotated id, and matches prevResult. */
export async function nestedCheck(req: AgentRequest, d: NestedDeps): Promise<void> {
  const prev = req.prevResult;
  if (!prev) throw new CniError(CniErrorCode.InvalidNetworkConfig, 'CHECK needs prevResult');
  const fail = (msg: string): never => {
    throw new CniError(AGENT_FAILURE, `CHECK ${req.ifname} in ${req.netns}: ${msg}`);
  };
  const ifaces = prev.interfaces ?? [];
  const idx = ifaces.findIndex((i) => i.name === req.ifname && i.sandbox === req.netns);
  if (idx < 0) fail('prevResult has no interface with that name and sandbox');
  const want = ifaces[idx];
  const state = withPodNetns(req.netns, (fd) => inspectPod(req.netns, req.ifname, fd));
  const link = state.link ?? fail('interface is missing');
  const parent = d.netdev.hostLink(d.parentIface) ?? fail(`parent interface ${d.parentIface} is missing`);
  const carried = podVlanOf(d, req, link, parent);
  if (typeof carried === 'string') fail(carried);
  const { ns, name } = podRef(req);
  const vlan = annotatedVlan(d, ns, name);
  if (vlan !== undefined && carried !== vlan) fail(`VLAN id is ${carried}, the pod's annotation says ${vlan}`);
  if (want.mac && link.mac !== want.mac.toLowerCase()) fail(`MAC is ${link.mac}, expected ${want.mac}`);
  if (want.mtu && link.mtu !== want.mtu) fail(`MTU is ${link.mtu}, expected ${want.mtu}`);
  for (const ip of (prev.ips ?? []).filter((i) => i.interface === idx)) {
    if (!state.addresses.some((a) => sameAddress(a, ip.address))) fail(`address ${ip.address} is missing`);
  }
  for (const r of prev.routes ?? []) {
    if (!state.routes.some((s) => sameNet(s.dst, r.dst) && (r.gw === undefined || s.gw === r.gw))) fail(`route ${r.dst}${r.gw ? ` via ${r.gw}` : ''} is missing`);
  }
}

function annotatedVlan(d: NestedDeps, ns: string, name: string): number | undefined {
  try {
    return parsePodNetworks(d.pods.get(name, ns)?.metadata?.annotations?.[POD_NETWORKS_ANNOTATION])?.[DEFAULT_NETWORK]?.vlan;
  } catch {
    return undefined;
  }
}

/** Nothing to collect: a nested pod's link lives only in its own netns and goes with it. */
export async function nestedGc(req: AgentRequest, d: NestedDeps): Promise<void> {
  d.log.info('GC done', { valid: (req.validAttachments ?? []).length, removed: 0 });
}
