// The nested agent's VLAN link request (agent/nested/vlan-link.ts → RtnlSocket.createVlan), byte for byte. The lab's
// kernel has no 8021q, so no test creates a real VLAN link; this holds the request to the layout of
// include/uapi/linux/rtnetlink.h and if_link.h instead: struct nlmsghdr, struct ifinfomsg, then rtattrs (u16 len,
// u16 type, payload padded to 4 bytes), IFLA_LINKINFO nesting IFLA_INFO_KIND "vlan" and IFLA_INFO_DATA, which nests
// IFLA_VLAN_ID (u16, host order). Nested attributes carry NLA_F_NESTED (0x8000), as iproute2 sends them.
import assert from 'node:assert/strict';
import { encodeMessage, ifinfomsg, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST, RTM_NEWLINK } from '../../../lib/netdev/nlmsg.js';
import { vlanLinkAttrs } from '../../../lib/netdev/rtnl.js';

/** "10 00 03 00 ..." → bytes; spaces and line breaks are for the reader. */
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('VLAN link request (RTM_NEWLINK type vlan)', () => {
  const spec = { parentIndex: 2, vlanId: 0x0123, name: 'eth0', netnsFd: 7, mtu: 1400, mac: '0a:58:0a:f4:01:05' };
  const flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;

  it('encodes nlmsghdr, ifinfomsg and IFNAME, LINK, MTU, ADDRESS, NET_NS_FD, LINKINFO{KIND "vlan", DATA{VLAN_ID}}', () => {
    const msg = encodeMessage(RTM_NEWLINK, flags, 9, ifinfomsg(), vlanLinkAttrs(spec));
    const want = hex(`
      6c000000 1000 0506 09000000 00000000
      00 00 0000 00000000 00000000 00000000
      0900 0300 65746830 00 000000
      0800 0500 02000000
      0800 0400 78050000
      0a00 0100 0a580af40105 0000
      0800 1c00 07000000
      1c00 1280
        0900 0100 766c616e 00 000000
        0c00 0280
          0600 0100 2301 0000
    `);
    // nlmsghdr: len 0x6c (108), RTM_NEWLINK 16, flags REQUEST|ACK|EXCL|CREATE (0x0605), seq 9, pid 0. ifinfomsg: all zero
    // (AF_UNSPEC; the kernel picks the index). IFLA_IFNAME 3, IFLA_LINK 5 (parent ifindex), IFLA_MTU 4 (1400),
    // IFLA_ADDRESS 1 (6-byte MAC, 2 bytes padding), IFLA_NET_NS_FD 28, IFLA_LINKINFO 18|NESTED.
    assert.equal(msg.toString('hex'), want.toString('hex'));
  });

  it('puts the VLAN id in the low bytes first, over the full 1-4094 range', () => {
    for (const vlanId of [1, 255, 256, 4094]) {
      const attrs = encodeMessage(RTM_NEWLINK, flags, 1, ifinfomsg(), vlanLinkAttrs({ ...spec, vlanId }));
      // IFLA_VLAN_ID's payload sits 4 bytes from the end of the message (2 bytes id, 2 bytes padding).
      assert.equal(attrs.readUInt16LE(attrs.length - 4), vlanId);
      assert.equal(attrs.readUInt16LE(attrs.length - 8), 6, 'IFLA_VLAN_ID rtattr length: 4 + u16');
    }
  });
});
