// CNI CHECK: the pod interface matches prevResult, and the OVS port is really wired to it. A port of the right name
// with ovn-installed is not enough: the port must belong to this sandbox and pod, and vswitchd must be bound to the
// live host veth whose peer is the pod's interface (after a racing re-ADD vswitchd can stay bound to a deleted veth,
// or an old sandbox's port can carry a stale ovn-installed).
import { CniError, CniErrorCode, hostVethName, type AgentRequest } from '../lib/cni-protocol.js';
import { podPort } from '../lib/ovn/names.js';
import { inspectPod, sameAddress, sameNet, type PodLinkState } from '../lib/netdev/index.js';
import { AGENT_FAILURE, type HandlerDeps } from './cni-deps.js';
import { IFACE_ID, IFACE_ID_VER, OVN_INSTALLED, SANDBOX, podPortOf } from './ovs-ports.js';
import { withPodNetns } from './pod-netns.js';

export function cmdCheck(req: AgentRequest, d: HandlerDeps): void {
  const { state, fail } = checkPodInterface(req);
  checkPort(req, d, state, fail);
}

type Fail = (msg: string) => never;

/**
 * The pod interface exists and has prevResult's MAC, MTU, addresses and routes; `first` checks what a plugin adds
 * (e.g. a VLAN id) before those. Returns the pod side as read and the `fail` that names the interface.
 */
export function checkPodInterface(req: AgentRequest, first?: (link: NonNullable<PodLinkState['link']>, fail: Fail) => void): { state: PodLinkState; fail: Fail } {
  const prev = req.prevResult;
  if (!prev) throw new CniError(CniErrorCode.InvalidNetworkConfig, 'CHECK needs prevResult');
  const fail: Fail = (msg) => {
    throw new CniError(AGENT_FAILURE, `CHECK ${req.ifname} in ${req.netns}: ${msg}`);
  };
  const ifaces = prev.interfaces ?? [];
  const idx = ifaces.findIndex((i) => i.name === req.ifname && i.sandbox === req.netns);
  if (idx < 0) fail('prevResult has no interface with that name and sandbox');
  const want = ifaces[idx];
  const state = withPodNetns(req.netns, (fd) => inspectPod(req.netns, req.ifname, fd));
  const link = state.link ?? fail('interface is missing');
  first?.(link, fail);
  if (want.mac && link.mac !== want.mac.toLowerCase()) fail(`MAC is ${link.mac}, expected ${want.mac}`);
  if (want.mtu && link.mtu !== want.mtu) fail(`MTU is ${link.mtu}, expected ${want.mtu}`);
  for (const ip of (prev.ips ?? []).filter((i) => i.interface === idx)) {
    if (!state.addresses.some((a) => sameAddress(a, ip.address))) fail(`address ${ip.address} is missing`);
  }
  for (const r of prev.routes ?? []) {
    if (!state.routes.some((s) => sameNet(s.dst, r.dst) && (r.gw === undefined || s.gw === r.gw))) fail(`route ${r.dst}${r.gw ? ` via ${r.gw}` : ''} is missing`);
  }
  return { state, fail };
}

/** The OVS port is this attachment's, ovn-installed, and bound to the live veth whose peer is the pod interface. */
function checkPort(req: AgentRequest, d: HandlerDeps, pod: PodLinkState, fail: Fail): void {
  const hostName = hostVethName(req.containerId, req.ifname);
  const iface = d.ports.iface(hostName);
  if (!iface || !d.ports.port(hostName)) fail(`OVS port ${hostName} is missing`);
  const ids = iface!.external_ids;
  if (req.podNamespace && req.podName && podPortOf(ids) !== podPort(req.podNamespace, req.podName)) {
    fail(`OVS port ${hostName} has iface-id ${ids[IFACE_ID]}, expected ${podPort(req.podNamespace, req.podName)}`);
  }
  if (ids[SANDBOX] !== req.containerId) fail(`OVS port ${hostName} belongs to sandbox ${ids[SANDBOX]}`);
  if (req.podUid && ids[IFACE_ID_VER] !== req.podUid) fail(`OVS port ${hostName} belongs to pod uid ${ids[IFACE_ID_VER]}, expected ${req.podUid}`);
  if (ids[OVN_INSTALLED] !== 'true') fail(`OVS port ${hostName} is not ${OVN_INSTALLED}`);
  const host = d.netdev.hostLink(hostName);
  if (!host) fail(`host veth ${hostName} is missing`);
  if (host!.peerIndex !== pod.link!.index || pod.link!.peerIndex !== host!.index) {
    fail(`host veth ${hostName} (ifindex ${host!.index}, peer ${host!.peerIndex}) is not the peer of ${req.ifname} (ifindex ${pod.link!.index}, peer ${pod.link!.peerIndex})`);
  }
  if (iface!.error) fail(`OVS interface ${hostName} has an error: ${iface!.error}`);
  if (!iface!.ofport || iface!.ofport < 1) fail(`OVS interface ${hostName} has no OpenFlow port (ofport ${iface!.ofport ?? 'unset'})`);
  if (iface!.ifindex !== host!.index) fail(`OVS interface ${hostName} is bound to ifindex ${iface!.ifindex ?? 'none'}, not to the live veth (ifindex ${host!.index})`);
}
