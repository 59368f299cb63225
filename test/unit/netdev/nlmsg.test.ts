import assert from 'node:assert/strict';
import {
  attrNested,
  attrStr,
  attrU32,
  decodeAddr,
  decodeError,
  decodeLink,
  decodeRoute,
  encodeMessage,
  ifaddrmsg,
  ifinfomsg,
  ipBytes,
  ipFromBytes,
  macBytes,
  parseAttrs,
  rtmsg,
  splitMessages,
  IFLA_IFNAME,
  IFLA_LINKINFO,
  IFLA_INFO_KIND,
  IFLA_MTU,
  NLA_F_NESTED,
  NLM_F_ACK,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_REQUEST,
  NLMSG_ERROR,
  RTM_NEWLINK,
  IFLA_ADDRESS,
  IFA_LOCAL,
  RTA_DST,
  RTA_GATEWAY,
  RTA_OIF,
  AF_INET,
  RT_TABLE_MAIN,
  RTPROT_STATIC,
} from '../../../lib/netdev/nlmsg.js';
import { parseIP } from '../../../lib/ipnet/index.js';

/** Builds a reply message the way the kernel lays it out (header + body). */
function reply(type: number, flags: number, seq: number, body: Buffer): Buffer {
  const b = Buffer.alloc(16 + body.length);
  b.writeUInt32LE(16 + body.length, 0);
  b.writeUInt16LE(type, 4);
  b.writeUInt16LE(flags, 6);
  b.writeUInt32LE(seq, 8);
  body.copy(b, 16);
  return b;
}

describe('netdev/nlmsg encoding', () => {
  it('frames a header, the fixed part and 4-byte-aligned attributes', () => {
    const m = encodeMessage(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, 7, ifinfomsg({ index: 3, flags: 1, change: 1 }), [
      attrStr(IFLA_IFNAME, 'eth0'), // 4 + 5 bytes -> padded to 12
      attrU32(IFLA_MTU, 1400),
    ]);
    assert.equal(m.length, 16 + 16 + 12 + 8);
    assert.equal(m.readUInt32LE(0), m.length);
    assert.equal(m.readUInt16LE(4), RTM_NEWLINK);
    assert.equal(m.readUInt16LE(6), NLM_F_REQUEST | NLM_F_ACK);
    assert.equal(m.readUInt32LE(8), 7);
    assert.equal(m.readInt32LE(16 + 4), 3); // ifi_index
    assert.equal(m.readUInt16LE(32), 9); // rta_len excludes padding
    assert.equal(m.readUInt16LE(34), IFLA_IFNAME);
    assert.equal(m.toString('utf8', 36, 40), 'eth0');
    assert.equal(m[40], 0); // NUL terminator
    assert.deepEqual([...m.subarray(41, 44)], [0, 0, 0]); // padding
    assert.equal(m.readUInt16LE(44), 8);
    assert.equal(m.readUInt32LE(48), 1400);
  });

  it('marks nested attributes with NLA_F_NESTED and sizes them by their content', () => {
    const m = encodeMessage(RTM_NEWLINK, 0, 1, ifinfomsg(), [attrNested(IFLA_LINKINFO, [attrStr(IFLA_INFO_KIND, 'veth')])]);
    const outer = 32;
    assert.equal(m.readUInt16LE(outer + 2), IFLA_LINKINFO | NLA_F_NESTED);
    assert.equal(m.readUInt16LE(outer), 4 + 12);
    const a = parseAttrs(m, outer + 4, outer + 16);
    assert.equal(a.get(IFLA_INFO_KIND)?.toString(), 'veth\0');
  });

  it('encodes ifaddrmsg and rtmsg fields at their offsets', () => {
    const a = ifaddrmsg(AF_INET, 24, 0, 0, 5);
    assert.deepEqual([...a], [2, 24, 0, 0, 5, 0, 0, 0]);
    const r = rtmsg({ family: AF_INET, dstLen: 16, protocol: RTPROT_STATIC });
    assert.deepEqual([...r.subarray(0, 8)], [2, 16, 0, 0, RT_TABLE_MAIN, RTPROT_STATIC, 0, 1]);
  });

  it('converts addresses and MACs to network byte order and back', () => {
    assert.deepEqual([...ipBytes(parseIP('10.244.1.5'))], [10, 244, 1, 5]);
    assert.equal(ipFromBytes(Buffer.from([10, 96, 0, 0])), '10.96.0.0');
    assert.equal(ipFromBytes(ipBytes(parseIP('fd00::1'))), 'fd00::1');
    assert.deepEqual([...macBytes('0a:58:0a:f4:01:05')], [0x0a, 0x58, 0x0a, 0xf4, 0x01, 0x05]);
    assert.throws(() => macBytes('0a:58:zz:f4:01:05'), /not a MAC address: "0a:58:zz:f4:01:05"/);
  });
});

describe('netdev/nlmsg decoding', () => {
  it('splits several messages in one buffer and stops at a truncated one', () => {
    const a = reply(3, 0, 1, Buffer.alloc(4));
    const b = reply(3, 0, 2, Buffer.alloc(4));
    const truncated = Buffer.alloc(8);
    truncated.writeUInt32LE(100, 0);
    const ms = splitMessages(Buffer.concat([a, b, truncated]));
    assert.deepEqual(ms.map((m) => m.seq), [1, 2]);
  });

  it('decodes an ack as errno 0 and an error with the extended-ack text', () => {
    const ack = Buffer.alloc(4 + 16);
    assert.deepEqual(decodeError(splitMessages(reply(NLMSG_ERROR, 0, 1, ack))[0]), { errno: 0 });
    const text = Buffer.from('no device matches name\0');
    const tlvLen = 4 + text.length;
    const body = Buffer.alloc(4 + 16 + ((tlvLen + 3) & ~3));
    body.writeInt32LE(-19, 0);
    body.writeUInt32LE(40, 4); // echoed header (capped): its len field says 40, but only 16 bytes follow
    body.writeUInt16LE(tlvLen, 20);
    body.writeUInt16LE(1, 22);
    text.copy(body, 24);
    const e = decodeError(splitMessages(reply(NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, 1, body))[0]);
    assert.deepEqual(e, { errno: 19, extMsg: 'no device matches name' });
  });

  it('decodes a link message: index, flags, name, mtu, mac and kind', () => {
    const msg = encodeMessage(RTM_NEWLINK, 0, 9, ifinfomsg({ index: 4, flags: 0x1003 }), [
      attrStr(IFLA_IFNAME, 'veth0123456789a'),
      attrU32(IFLA_MTU, 1400),
      { type: IFLA_ADDRESS, data: macBytes('0a:58:0a:f4:01:05') },
      attrNested(IFLA_LINKINFO, [attrStr(IFLA_INFO_KIND, 'veth')]),
    ]);
    const l = decodeLink(splitMessages(msg)[0]);
    assert.deepEqual(l, { index: 4, flags: 0x1003, name: 'veth0123456789a', mtu: 1400, mac: '0a:58:0a:f4:01:05', kind: 'veth' });
  });

  it('decodes addresses and routes (default route has no RTA_DST)', () => {
    const addr = encodeMessage(20, 0, 1, ifaddrmsg(AF_INET, 24, 0, 0, 2), [{ type: IFA_LOCAL, data: Buffer.from([10, 244, 1, 5]) }]);
    assert.deepEqual(decodeAddr(splitMessages(addr)[0]), { family: AF_INET, prefixlen: 24, index: 2, cidr: '10.244.1.5/24' });
    const def = encodeMessage(24, 0, 1, rtmsg({ family: AF_INET, dstLen: 0 }), [
      { type: RTA_GATEWAY, data: Buffer.from([10, 244, 1, 1]) },
      attrU32(RTA_OIF, 2),
    ]);
    assert.deepEqual(decodeRoute(splitMessages(def)[0]), {
      family: AF_INET, dst: '0.0.0.0/0', gateway: '10.244.1.1', oif: 2, table: RT_TABLE_MAIN, protocol: 3, scope: 0, type: 1,
    });
    const svc = encodeMessage(24, 0, 1, rtmsg({ family: AF_INET, dstLen: 16 }), [{ type: RTA_DST, data: Buffer.from([10, 96, 0, 0]) }]);
    assert.equal(decodeRoute(splitMessages(svc)[0]).dst, '10.96.0.0/16');
  });
});
