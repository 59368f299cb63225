// A synchronous rtnetlink socket. The socket lives in the netns it was opened in, whatever netns the thread
// moves to afterwards: that is how pod-side work is done without staying inside the pod's netns.
// Requests are blocking but bounded (SO_RCVTIMEO); the kernel answers rtnetlink requests in the send path.
import { getLibc, NetdevError } from './ffi.js';
import {
  AF_INET,
  AF_INET6,
  attrBytes,
  attrNested,
  attrStr,
  attrU32,
  decodeAddr,
  decodeError,
  decodeLink,
  decodeRoute,
  encodeMessage,
  familyOf,
  IFA_ADDRESS,
  IFA_F_NODAD,
  IFA_LOCAL,
  ifaddrmsg,
  IFF_UP,
  ifinfomsg,
  IFLA_ADDRESS,
  IFLA_IFNAME,
  IFLA_INFO_DATA,
  IFLA_INFO_KIND,
  IFLA_IFALIAS,
  IFLA_LINK,
  IFLA_LINKINFO,
  IFLA_MTU,
  IFLA_NET_NS_FD,
  ipBytes,
  macBytes,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_REPLACE,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  RT_SCOPE_LINK,
  RT_SCOPE_UNIVERSE,
  RTA_DST,
  RTA_GATEWAY,
  RTA_OIF,
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_DELROUTE,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_GETROUTE,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWROUTE,
  RTPROT_STATIC,
  rtmsg,
  splitMessages,
  VETH_INFO_PEER,
  IFLA_VLAN_ID,
  type AddrInfo,
  type Attr,
  type LinkInfo,
  type RawMessage,
  type RouteInfo,
} from './nlmsg.js';
import { parseCIDR, parseInterfaceAddress, parseIP } from '../ipnet/index.js';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0x80000;
const NETLINK_ROUTE = 0;
const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;
const SOL_NETLINK = 270;
const NETLINK_CAP_ACK = 10;
const NETLINK_EXT_ACK = 11;
const ENODEV = 19;
const ESRCH = 3;
const EADDRNOTAVAIL = 99;
const EEXIST = 17;
const RECV_BUF = 64 * 1024;

export interface VethSpec {
  /** Host-side name (created in the socket's netns). */
  hostName: string;
  /** Peer name inside the target netns. */
  peerName: string;
  /** fd of the target netns (open /proc/.../ns/net or /var/run/netns/X). */
  peerNetnsFd: number;
  mtu: number;
  peerMac?: string;
  /** Bring the host end up at creation. */
  hostUp?: boolean;
}

export interface VlanSpec {
  /** ifindex of the parent NIC in the socket's netns. */
  parentIndex: number;
  vlanId: number;
  /** Name of the VLAN link in the target netns. */
  name: string;
  /** fd of the netns the link is created in (the parent stays where it is). */
  netnsFd: number;
  mtu: number;
  mac: string;
}

/** The RTM_NEWLINK attributes of a VLAN link (`ip link add link PARENT name NAME netns NS type vlan id ID`). */
export function vlanLinkAttrs(v: VlanSpec): Attr[] {
  // IFLA_VLAN_ID is a u16 in host byte order (NLA_U16), as every rtattr integer.
  const id = Buffer.alloc(2);
  id.writeUInt16LE(v.vlanId);
  return [
    attrStr(IFLA_IFNAME, v.name),
    attrU32(IFLA_LINK, v.parentIndex),
    attrU32(IFLA_MTU, v.mtu),
    attrBytes(IFLA_ADDRESS, macBytes(v.mac)),
    attrU32(IFLA_NET_NS_FD, v.netnsFd),
    attrNested(IFLA_LINKINFO, [attrStr(IFLA_INFO_KIND, 'vlan'), attrNested(IFLA_INFO_DATA, [attrBytes(IFLA_VLAN_ID, id)])]),
  ];
}

export interface RouteSpec {
  /** CIDR; "0.0.0.0/0" for default. */
  dst: string;
  gateway?: string;
  oif: number;
}

export class RtnlSocket {
  private seq = Math.floor(Math.random() * 1e9);
  private readonly buf = Buffer.alloc(RECV_BUF);
  private closed = false;

  private constructor(readonly fd: number) {}

  /** Opens a NETLINK_ROUTE socket in the calling thread's current netns. */
  static open(): RtnlSocket {
    const c = getLibc();
    const fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) throw new NetdevError('opening rtnetlink socket', c.errno());
    const s = new RtnlSocket(fd);
    try {
      const one = Buffer.alloc(4);
      one.writeInt32LE(1);
      // Best effort: capped acks and the kernel's own error text (absent on old kernels).
      c.setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, one, 4);
      c.setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, one, 4);
      const tv = Buffer.alloc(16);
      tv.writeBigInt64LE(5n, 0); // 5 s: a kernel that never answers must not hang the agent forever
      if (c.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16) < 0) throw new NetdevError('setting rtnetlink receive timeout', c.errno());
      const sa = Buffer.alloc(12); // sockaddr_nl { family, pad, pid 0 (kernel assigns), groups 0 }
      sa.writeUInt16LE(AF_NETLINK, 0);
      if (c.bind(fd, sa, 12) < 0) throw new NetdevError('binding rtnetlink socket', c.errno());
    } catch (err) {
      s.close();
      throw err;
    }
    return s;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    getLibc().close(this.fd);
  }

  /** Sends one request; returns the data messages of the reply (dumps) after the ack/DONE. Throws NetdevError. */
  request(what: string, type: number, flags: number, fixed: Buffer, attrs: Attr[] = []): RawMessage[] {
    const c = getLibc();
    const seq = ++this.seq >>> 0;
    const dump = (flags & NLM_F_DUMP) === NLM_F_DUMP;
    const msg = encodeMessage(type, NLM_F_REQUEST | (dump ? 0 : NLM_F_ACK) | flags, seq, fixed, attrs);
    if (c.sendto(this.fd, msg, msg.length, 0, null, 0) < 0) throw new NetdevError(`${what}: sending`, c.errno());
    const out: RawMessage[] = [];
    for (;;) {
      const n = c.recv(this.fd, this.buf, this.buf.length, 0);
      if (n < 0) throw new NetdevError(`${what}: receiving`, c.errno());
      for (const m of splitMessages(Buffer.from(this.buf.subarray(0, n)))) {
        if (m.seq !== seq) continue; // a stale reply of an earlier, timed-out request
        if (m.type === NLMSG_ERROR) {
          const e = decodeError(m);
          if (e.errno !== 0) throw new NetdevError(what, e.errno, e.extMsg);
          return out;
        }
        if (m.type === NLMSG_DONE) return out;
        out.push(m);
      }
    }
  }

  // ------------------------------------------------------------ links

  createVeth(v: VethSpec): void {
    const peerAttrs: Attr[] = [attrStr(IFLA_IFNAME, v.peerName), attrU32(IFLA_MTU, v.mtu), attrU32(IFLA_NET_NS_FD, v.peerNetnsFd)];
    if (v.peerMac) peerAttrs.push(attrBytes(IFLA_ADDRESS, macBytes(v.peerMac)));
    // VETH_INFO_PEER carries a struct ifinfomsg followed by the peer's attributes.
    const peerPayload = encodeMessage(0, 0, 0, ifinfomsg(), peerAttrs).subarray(16);
    const up = v.hostUp ? IFF_UP : 0;
    this.request(
      `creating veth ${v.hostName} with peer ${v.peerName}`,
      RTM_NEWLINK,
      NLM_F_CREATE | NLM_F_EXCL,
      ifinfomsg({ flags: up, change: up }),
      [
        attrStr(IFLA_IFNAME, v.hostName),
        attrU32(IFLA_MTU, v.mtu),
        attrNested(IFLA_LINKINFO, [attrStr(IFLA_INFO_KIND, 'veth'), attrNested(IFLA_INFO_DATA, [attrBytes(VETH_INFO_PEER, peerPayload)])]),
      ],
    );
  }

  /** A VLAN link on a parent of this netns, created straight in another netns with its final name, MAC and MTU. */
  createVlan(v: VlanSpec): void {
    this.request(`creating VLAN ${v.vlanId} link ${v.name} on ifindex ${v.parentIndex}`, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, ifinfomsg(), vlanLinkAttrs(v));
  }

  /** The link by name, or undefined if there is none. */
  getLink(name: string): LinkInfo | undefined {
    try {
      const r = this.request(`looking up link ${name}`, RTM_GETLINK, 0, ifinfomsg(), [attrStr(IFLA_IFNAME, name)]);
      return r[0] ? decodeLink(r[0]) : undefined;
    } catch (err) {
      if (err instanceof NetdevError && err.errno === ENODEV) return undefined;
      throw err;
    }
  }

  mustGetLink(name: string): LinkInfo {
    const l = this.getLink(name);
    if (!l) throw new NetdevError(`looking up link ${name}`, ENODEV);
    return l;
  }

  listLinks(): LinkInfo[] {
    return this.request('listing links', RTM_GETLINK, NLM_F_DUMP, ifinfomsg()).map(decodeLink);
  }

  /** Changes name/MAC/MTU/up/alias of a link in one request. */
  setLink(index: number, what: string, s: { name?: string; mac?: string; mtu?: number; up?: boolean; alias?: string }): void {
    const attrs: Attr[] = [];
    if (s.alias !== undefined) attrs.push(attrStr(IFLA_IFALIAS, s.alias));
    if (s.name !== undefined) attrs.push(attrStr(IFLA_IFNAME, s.name));
    if (s.mac !== undefined) attrs.push(attrBytes(IFLA_ADDRESS, macBytes(s.mac)));
    if (s.mtu !== undefined) attrs.push(attrU32(IFLA_MTU, s.mtu));
    const change = s.up === undefined ? 0 : IFF_UP;
    const flags = s.up ? IFF_UP : 0;
    this.request(what, RTM_NEWLINK, 0, ifinfomsg({ index, flags, change }), attrs);
  }

  /** Deletes a link by name; returns false if it did not exist. */
  deleteLink(name: string): boolean {
    try {
      this.request(`deleting link ${name}`, RTM_DELLINK, 0, ifinfomsg(), [attrStr(IFLA_IFNAME, name)]);
      return true;
    } catch (err) {
      if (err instanceof NetdevError && err.errno === ENODEV) return false;
      throw err;
    }
  }

  // ------------------------------------------------------------ addresses

  /** Adds "10.244.1.5/24" to a link; an identical existing address is fine (idempotent). */
  addAddress(index: number, cidr: string, ifname: string): void {
    const { address, network } = parseInterfaceAddress(cidr);
    const fam = familyOf(address);
    const raw = ipBytes(address);
    const attrs = [attrBytes(IFA_LOCAL, raw), attrBytes(IFA_ADDRESS, raw)];
    try {
      this.request(
        `adding address ${cidr} to ${ifname}`,
        RTM_NEWADDR,
        NLM_F_CREATE | NLM_F_REPLACE,
        ifaddrmsg(fam, network.prefix, fam === AF_INET ? 0 : IFA_F_NODAD, RT_SCOPE_UNIVERSE, index),
        attrs,
      );
    } catch (err) {
      if (!(err instanceof NetdevError && err.errno === EEXIST)) throw err;
    }
  }

  listAddresses(index?: number): AddrInfo[] {
    const all = this.request('listing addresses', RTM_GETADDR, NLM_F_DUMP, ifaddrmsg(0, 0, 0, 0, 0)).map(decodeAddr);
    return index === undefined ? all : all.filter((a) => a.index === index);
  }

  deleteAddress(index: number, cidr: string, ifname: string): void {
    const { address, network } = parseInterfaceAddress(cidr);
    try {
      this.request(`deleting address ${cidr} from ${ifname}`, RTM_DELADDR, 0, ifaddrmsg(familyOf(address), network.prefix, 0, 0, index), [
        attrBytes(IFA_LOCAL, ipBytes(address)),
      ]);
    } catch (err) {
      if (!(err instanceof NetdevError && err.errno === EADDRNOTAVAIL)) throw err;
    }
  }

  // ------------------------------------------------------------ routes

  /** Adds or replaces a main-table route (idempotent). */
  replaceRoute(r: RouteSpec, ifname: string): void {
    const dst = parseCIDR(r.dst, { strict: false });
    const fam = dst.family === 4 ? AF_INET : AF_INET6;
    const attrs: Attr[] = [attrU32(RTA_OIF, r.oif)];
    if (dst.prefix > 0) attrs.push(attrBytes(RTA_DST, ipBytes({ family: dst.family, value: dst.value })));
    if (r.gateway) attrs.push(attrBytes(RTA_GATEWAY, ipBytes(parseIP(r.gateway))));
    this.request(
      `adding route ${r.dst}${r.gateway ? ` via ${r.gateway}` : ''} dev ${ifname}`,
      RTM_NEWROUTE,
      NLM_F_CREATE | NLM_F_REPLACE,
      rtmsg({ family: fam, dstLen: dst.prefix, protocol: RTPROT_STATIC, scope: r.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK }),
      attrs,
    );
  }

  deleteRoute(r: RouteSpec, ifname: string): void {
    const dst = parseCIDR(r.dst, { strict: false });
    const attrs: Attr[] = [attrU32(RTA_OIF, r.oif)];
    if (dst.prefix > 0) attrs.push(attrBytes(RTA_DST, ipBytes({ family: dst.family, value: dst.value })));
    if (r.gateway) attrs.push(attrBytes(RTA_GATEWAY, ipBytes(parseIP(r.gateway))));
    try {
      this.request(`deleting route ${r.dst} dev ${ifname}`, RTM_DELROUTE, 0, rtmsg({ family: dst.family === 4 ? AF_INET : AF_INET6, dstLen: dst.prefix, protocol: 0, scope: 0, type: 0 }), attrs);
    } catch (err) {
      if (!(err instanceof NetdevError && err.errno === ESRCH)) throw err;
    }
  }

  /** Main-table routes of one family. */
  listRoutes(family = AF_INET): RouteInfo[] {
    return this.request('listing routes', RTM_GETROUTE, NLM_F_DUMP, rtmsg({ family, dstLen: 0, table: 0, protocol: 0, scope: 0, type: 0 }))
      .map(decodeRoute)
      .filter((r) => r.table === 254);
  }
}
