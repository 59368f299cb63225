// Pod interface set-up, check and teardown: the netns/link half of a CNI ADD/CHECK/DEL.
// The veth is created from the node side with its peer placed straight into the pod netns by fd, already
// carrying its final name, MAC and MTU (never a move by netnsid: a kernel quirk once moved an unrelated device).
// Pod-side addresses and routes go through a netlink socket opened inside the pod netns.
import { closeSync } from 'node:fs';
import { closeFd, openIoctlSocket, setTxChecksum } from './ethtool.js';
import { NetdevError } from './ffi.js';
import { openNetns, withNetnsFd } from './netns.js';
import { AF_INET, IFF_UP, type LinkInfo } from './nlmsg.js';
import { RtnlSocket } from './rtnl.js';
import { parseCIDR, parseInterfaceAddress } from '../ipnet/index.js';

export interface PodLinkSpec {
  /** The pod netns; also the label in errors. */
  netnsPath: string;
  /** The pod netns already opened (and checked) by the caller, who closes it; else netnsPath is opened. */
  netnsFd?: number;
  hostName: string;
  ifname: string;
  mac: string;
  mtu: number;
  /** CIDR interface addresses, "10.244.1.5/24". */
  addresses: string[];
  /** Routes inside the pod; dst "0.0.0.0/0" for the default route. */
  routes: { dst: string; gw?: string }[];
  /** Switch tx checksum offload off on both ends (br-int is a netdev bridge). */
  txChecksumOff: boolean;
}

export interface PodLinkResult {
  hostMac: string;
  podMac: string;
  podIndex: number;
}

/** Netlink and ioctl sockets of the netns the agent runs in (the node), kept open for the process lifetime. */
export class NodeNetdev {
  readonly rtnl: RtnlSocket;
  readonly ioctlFd: number;

  constructor() {
    this.rtnl = RtnlSocket.open();
    this.ioctlFd = openIoctlSocket();
  }

  close(): void {
    this.rtnl.close();
    closeFd(this.ioctlFd);
  }

  /** Creates and configures the pod interface; on failure removes the veth again and rethrows. */
  setupPod(s: PodLinkSpec): PodLinkResult {
    const nsFd = s.netnsFd ?? openNetns(s.netnsPath);
    let created = false;
    try {
      const existing = this.rtnl.getLink(s.hostName);
      if (existing) this.rtnl.deleteLink(s.hostName); // left by an earlier, interrupted ADD of the same attachment
      this.rtnl.createVeth({ hostName: s.hostName, peerName: s.ifname, peerNetnsFd: nsFd, mtu: s.mtu, peerMac: s.mac, hostUp: true });
      created = true;
      const pod = withNetnsFd(nsFd, s.netnsPath, () => ({ rtnl: RtnlSocket.open(), ioctlFd: openIoctlSocket() }));
      let podLink: LinkInfo;
      try {
        podLink = pod.rtnl.mustGetLink(s.ifname);
        const lo = pod.rtnl.getLink('lo');
        if (lo && !(lo.flags & IFF_UP)) pod.rtnl.setLink(lo.index, 'setting lo up in the pod', { up: true });
        for (const a of s.addresses) pod.rtnl.addAddress(podLink.index, a, s.ifname);
        pod.rtnl.setLink(podLink.index, `setting ${s.ifname} up in the pod`, { up: true });
        for (const r of s.routes) pod.rtnl.replaceRoute({ dst: r.dst, gateway: r.gw, oif: podLink.index }, s.ifname);
        if (s.txChecksumOff) setTxChecksum(pod.ioctlFd, s.ifname, false);
      } finally {
        pod.rtnl.close();
        closeFd(pod.ioctlFd);
      }
      if (s.txChecksumOff) setTxChecksum(this.ioctlFd, s.hostName, false);
      const host = this.rtnl.mustGetLink(s.hostName);
      return { hostMac: host.mac ?? '', podMac: s.mac, podIndex: podLink.index };
    } catch (err) {
      if (created) {
        try {
          this.rtnl.deleteLink(s.hostName);
        } catch {
          // the original error matters more; the reconciler retries orphans
        }
      }
      throw err;
    } finally {
      if (s.netnsFd === undefined) closeSync(nsFd);
    }
  }

  /** Removes the host veth (its peer goes with it). Returns false if it was already gone. */
  deleteHostVeth(hostName: string): boolean {
    return this.rtnl.deleteLink(hostName);
  }

  hostLink(name: string): LinkInfo | undefined {
    return this.rtnl.getLink(name);
  }
}

export interface PodLinkState {
  link?: LinkInfo;
  addresses: string[];
  routes: { dst: string; gw?: string }[];
}

/** Reads the interface, its addresses and its IPv4 main-table routes inside a pod netns (for CHECK). */
export function inspectPod(netnsPath: string, ifname: string, netnsFd?: number): PodLinkState {
  const nsFd = netnsFd ?? openNetns(netnsPath);
  try {
    const sock = withNetnsFd(nsFd, netnsPath, () => RtnlSocket.open());
    try {
      const link = sock.getLink(ifname);
      if (!link) return { addresses: [], routes: [] };
      const addresses = sock.listAddresses(link.index).map((a) => a.cidr);
      const routes = sock
        .listRoutes(AF_INET)
        .filter((r) => r.oif === link.index)
        .map((r) => (r.gateway ? { dst: r.dst, gw: r.gateway } : { dst: r.dst }));
      return { link, addresses, routes };
    } finally {
      sock.close();
    }
  } finally {
    if (netnsFd === undefined) closeSync(nsFd);
  }
}

/** Same network? ("10.96.0.0/16" equals "10.96.1.0/16" after masking; used to compare route destinations.) */
export function sameNet(a: string, b: string): boolean {
  try {
    const x = parseCIDR(a, { strict: false });
    const y = parseCIDR(b, { strict: false });
    return x.family === y.family && x.prefix === y.prefix && x.value === y.value;
  } catch {
    return false;
  }
}

/** Same interface address (address and prefix)? */
export function sameAddress(a: string, b: string): boolean {
  try {
    const x = parseInterfaceAddress(a);
    const y = parseInterfaceAddress(b);
    return x.address.value === y.address.value && x.network.prefix === y.network.prefix;
  } catch {
    return false;
  }
}

export { NetdevError };
