// rtnetlink message encoding and decoding (pure: no sockets, no FFI), so it can be unit-tested byte by byte.
// Layouts follow linux/netlink.h, linux/rtnetlink.h, linux/if_link.h and linux/if_addr.h (x86_64, host byte order).
import { formatIP, parseIP, type IPAddr } from '../ipnet/index.js';

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
/** In an NLMSG_ERROR reply: extended-ack TLVs follow the (capped) original header. */
export const NLM_F_CAPPED = 0x100;
export const NLM_F_ACK_TLVS = 0x200;
export const NLMSGERR_ATTR_MSG = 1;

export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;

export const IFLA_ADDRESS = 1;
export const IFLA_IFNAME = 3;
export const IFLA_MTU = 4;
export const IFLA_LINK = 5;
export const IFLA_MASTER = 10;
export const IFLA_LINKINFO = 18;
export const IFLA_IFALIAS = 20;
export const IFLA_NET_NS_FD = 28;
export const IFLA_INFO_KIND = 1;
export const IFLA_INFO_DATA = 2;
export const VETH_INFO_PEER = 1;
export const IFLA_VLAN_ID = 1;

export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_F_NODAD = 0x02;

export const RTA_DST = 1;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_TABLE = 15;

export const RT_TABLE_MAIN = 254;
export const RTPROT_BOOT = 3;
export const RTPROT_STATIC = 4;
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;
export const RTN_UNICAST = 1;

export const IFF_UP = 0x1;
export const NLA_F_NESTED = 0x8000;

export const NLMSG_HDRLEN = 16;
const IFINFOMSG_LEN = 16;
const IFADDRMSG_LEN = 8;
const RTMSG_LEN = 12;

const align4 = (n: number): number => (n + 3) & ~3;

// ---------------------------------------------------------------- attributes

/** One rtattr: a type and either raw bytes or nested attributes. */
export interface Attr {
  type: number;
  data: Buffer | Attr[];
}

export const attrU32 = (type: number, v: number): Attr => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return { type, data: b };
};
export const attrStr = (type: number, s: string): Attr => ({ type, data: Buffer.from(s + '\0', 'utf8') });
export const attrBytes = (type: number, b: Buffer): Attr => ({ type, data: b });
export const attrNested = (type: number, attrs: Attr[]): Attr => ({ type, data: attrs });

function attrsLength(attrs: Attr[]): number {
  let n = 0;
  for (const a of attrs) n += align4(4 + payloadLength(a));
  return n;
}
function payloadLength(a: Attr): number {
  return Buffer.isBuffer(a.data) ? a.data.length : attrsLength(a.data);
}
function writeAttrs(buf: Buffer, off: number, attrs: Attr[]): number {
  for (const a of attrs) {
    const len = 4 + payloadLength(a);
    buf.writeUInt16LE(len, off);
    buf.writeUInt16LE(Buffer.isBuffer(a.data) ? a.type : a.type | NLA_F_NESTED, off + 2);
    if (Buffer.isBuffer(a.data)) a.data.copy(buf, off + 4);
    else writeAttrs(buf, off + 4, a.data);
    off += align4(len); // padding bytes stay zero (Buffer.alloc)
  }
  return off;
}

/** Parses a run of rtattrs into type → payload (last one wins; the NLA_F_NESTED bit is masked off). */
export function parseAttrs(buf: Buffer, off = 0, end = buf.length): Map<number, Buffer> {
  const m = new Map<number, Buffer>();
  while (off + 4 <= end) {
    const len = buf.readUInt16LE(off);
    const type = buf.readUInt16LE(off + 2) & 0x3fff;
    if (len < 4 || off + len > end) break;
    m.set(type, buf.subarray(off + 4, off + len));
    off += align4(len);
  }
  return m;
}

const cstr = (b: Buffer | undefined): string | undefined => {
  if (!b) return undefined;
  const z = b.indexOf(0);
  return b.toString('utf8', 0, z < 0 ? b.length : z);
};

// ---------------------------------------------------------------- messages

/** Frames one netlink message: header + fixed family header + attributes. */
export function encodeMessage(type: number, flags: number, seq: number, fixed: Buffer, attrs: Attr[] = []): Buffer {
  const len = NLMSG_HDRLEN + align4(fixed.length) + attrsLength(attrs);
  const buf = Buffer.alloc(len);
  buf.writeUInt32LE(len, 0);
  buf.writeUInt16LE(type, 4);
  buf.writeUInt16LE(flags, 6);
  buf.writeUInt32LE(seq >>> 0, 8);
  buf.writeUInt32LE(0, 12); // pid 0: addressed to the kernel
  fixed.copy(buf, NLMSG_HDRLEN);
  writeAttrs(buf, NLMSG_HDRLEN + align4(fixed.length), attrs);
  return buf;
}

export interface IfInfo {
  family?: number;
  type?: number;
  index?: number;
  flags?: number;
  change?: number;
}
export function ifinfomsg(i: IfInfo = {}): Buffer {
  const b = Buffer.alloc(IFINFOMSG_LEN);
  b.writeUInt8(i.family ?? AF_UNSPEC, 0);
  b.writeUInt16LE(i.type ?? 0, 2);
  b.writeInt32LE(i.index ?? 0, 4);
  b.writeUInt32LE(i.flags ?? 0, 8);
  b.writeUInt32LE(i.change ?? 0, 12);
  return b;
}
export function ifaddrmsg(family: number, prefixlen: number, flags: number, scope: number, index: number): Buffer {
  const b = Buffer.alloc(IFADDRMSG_LEN);
  b.writeUInt8(family, 0);
  b.writeUInt8(prefixlen, 1);
  b.writeUInt8(flags, 2);
  b.writeUInt8(scope, 3);
  b.writeUInt32LE(index, 4);
  return b;
}
export interface RtMsg {
  family: number;
  dstLen: number;
  table?: number;
  protocol?: number;
  scope?: number;
  type?: number;
}
export function rtmsg(r: RtMsg): Buffer {
  const b = Buffer.alloc(RTMSG_LEN);
  b.writeUInt8(r.family, 0);
  b.writeUInt8(r.dstLen, 1);
  b.writeUInt8(0, 2); // src_len
  b.writeUInt8(0, 3); // tos
  b.writeUInt8(r.table ?? RT_TABLE_MAIN, 4);
  b.writeUInt8(r.protocol ?? RTPROT_BOOT, 5);
  b.writeUInt8(r.scope ?? RT_SCOPE_UNIVERSE, 6);
  b.writeUInt8(r.type ?? RTN_UNICAST, 7);
  b.writeUInt32LE(0, 8);
  return b;
}

/** Address bytes in network order, as netlink carries them. */
export function ipBytes(a: IPAddr): Buffer {
  const n = a.family === 4 ? 4 : 16;
  const b = Buffer.alloc(n);
  let v = a.value;
  for (let i = n - 1; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}
export function ipFromBytes(b: Buffer): string {
  let v = 0n;
  for (const byte of b) v = (v << 8n) | BigInt(byte);
  return formatIP({ family: b.length === 4 ? 4 : 6, value: v });
}
export const familyOf = (a: IPAddr): number => (a.family === 4 ? AF_INET : AF_INET6);

export function macBytes(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) throw new Error(`not a MAC address: "${mac}"`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}
export const macFromBytes = (b: Buffer): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');

export { parseIP };

// ---------------------------------------------------------------- replies

export interface RawMessage {
  type: number;
  flags: number;
  seq: number;
  /** Payload after the 16-byte header. */
  body: Buffer;
}

/** Splits a recv() buffer into messages. */
export function splitMessages(buf: Buffer): RawMessage[] {
  const out: RawMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) break;
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      body: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

/** Decodes an NLMSG_ERROR body: errno (positive; 0 = ack) and the kernel's extended-ack message if any. */
export function decodeError(m: RawMessage): { errno: number; extMsg?: string } {
  const errno = Math.abs(m.body.readInt32LE(0)); // the kernel sends -errno; abs avoids a -0 for acks
  let extMsg: string | undefined;
  if (m.flags & NLM_F_ACK_TLVS && m.body.length >= 4 + NLMSG_HDRLEN) {
    // The echoed request is capped to its header when NETLINK_CAP_ACK is on; otherwise it is whole.
    const origLen = m.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : m.body.readUInt32LE(4);
    const tlvStart = 4 + align4(origLen);
    extMsg = cstr(parseAttrs(m.body, tlvStart).get(NLMSGERR_ATTR_MSG));
  }
  return extMsg ? { errno, extMsg } : { errno };
}

export interface LinkInfo {
  index: number;
  flags: number;
  name: string;
  mtu?: number;
  mac?: string;
  kind?: string;
  master?: number;
  /** IFLA_LINK: for a veth, the peer's ifindex (in the peer's netns); for a VLAN, its parent's. */
  peerIndex?: number;
  /** IFLA_VLAN_ID of a VLAN link. */
  vlanId?: number;
  /** IFLA_IFALIAS. */
  alias?: string;
}
export function decodeLink(m: RawMessage): LinkInfo {
  const index = m.body.readInt32LE(4);
  const flags = m.body.readUInt32LE(8);
  const a = parseAttrs(m.body, IFINFOMSG_LEN);
  const li = a.get(IFLA_LINKINFO);
  const info = li ? parseAttrs(li) : undefined;
  const kind = cstr(info?.get(IFLA_INFO_KIND));
  const out: LinkInfo = { index, flags, name: cstr(a.get(IFLA_IFNAME)) ?? '' };
  const data = info?.get(IFLA_INFO_DATA);
  const vlan = kind === 'vlan' && data ? parseAttrs(data).get(IFLA_VLAN_ID) : undefined;
  if (vlan && vlan.length >= 2) out.vlanId = vlan.readUInt16LE(0);
  const alias = cstr(a.get(IFLA_IFALIAS));
  if (alias) out.alias = alias;
  const mtu = a.get(IFLA_MTU);
  if (mtu) out.mtu = mtu.readUInt32LE(0);
  const mac = a.get(IFLA_ADDRESS);
  if (mac && mac.length === 6) out.mac = macFromBytes(mac);
  if (kind) out.kind = kind;
  const master = a.get(IFLA_MASTER);
  if (master) out.master = master.readUInt32LE(0);
  const link = a.get(IFLA_LINK);
  if (link) out.peerIndex = link.readUInt32LE(0);
  return out;
}

export interface AddrInfo {
  family: number;
  prefixlen: number;
  index: number;
  /** "10.244.1.5/24" */
  cidr: string;
}
export function decodeAddr(m: RawMessage): AddrInfo {
  const family = m.body.readUInt8(0);
  const prefixlen = m.body.readUInt8(1);
  const index = m.body.readUInt32LE(4);
  const a = parseAttrs(m.body, IFADDRMSG_LEN);
  const raw = a.get(IFA_LOCAL) ?? a.get(IFA_ADDRESS);
  return { family, prefixlen, index, cidr: raw ? `${ipFromBytes(raw)}/${prefixlen}` : '' };
}

export interface RouteInfo {
  family: number;
  /** "0.0.0.0/0" for a default route. */
  dst: string;
  gateway?: string;
  oif?: number;
  table: number;
  protocol: number;
  scope: number;
  type: number;
}
export function decodeRoute(m: RawMessage): RouteInfo {
  const family = m.body.readUInt8(0);
  const dstLen = m.body.readUInt8(1);
  const a = parseAttrs(m.body, RTMSG_LEN);
  const tableAttr = a.get(RTA_TABLE);
  const dstRaw = a.get(RTA_DST);
  const dst = dstRaw ? `${ipFromBytes(dstRaw)}/${dstLen}` : family === AF_INET ? '0.0.0.0/0' : '::/0';
  const out: RouteInfo = {
    family,
    dst,
    table: tableAttr ? tableAttr.readUInt32LE(0) : m.body.readUInt8(4),
    protocol: m.body.readUInt8(5),
    scope: m.body.readUInt8(6),
    type: m.body.readUInt8(7),
  };
  const gw = a.get(RTA_GATEWAY);
  if (gw) out.gateway = ipFromBytes(gw);
  const oif = a.get(RTA_OIF);
  if (oif) out.oif = oif.readUInt32LE(0);
  return out;
}
