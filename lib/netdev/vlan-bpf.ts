// 802.1Q tagging without the kernel's VLAN driver (CONFIG_VLAN_8021Q), for VM kernels built without it: two tc
// programs (eBPF, direct action) on clsact ingress hooks. On a pod's veth: push the pod's VLAN id and redirect to
// the parent NIC's egress. On the parent NIC: a tagged frame whose id belongs to a pod is popped and redirected to
// that pod's veth; anything else (the VM's own traffic) goes on to the VM's stack. Programs are built here as
// bytecode (no compiler on the node) and attached over rtnetlink.
import { getLibc, NetdevError } from './ffi.js';
import { attrNested, attrStr, attrU32, type Attr } from './nlmsg.js';
import type { RtnlSocket } from './rtnl.js';

const BPF_PROG_LOAD = 5;
const BPF_PROG_TYPE_SCHED_CLS = 3;
const HELPER_SKB_VLAN_PUSH = 18;
const HELPER_SKB_VLAN_POP = 19;
const HELPER_REDIRECT = 23;
/** __sk_buff offsets. */
const SKB_VLAN_PRESENT = 20;
const SKB_VLAN_TCI = 24;
const TC_ACT_OK = 0;
const TC_ACT_SHOT = 2;
/** htons(ETH_P_8021Q) as the helper reads it on a little-endian host. */
const VLAN_PROTO_BE = 0x0081;

const RTM_NEWQDISC = 36;
const RTM_NEWTFILTER = 44;
const NLM_F_CREATE = 0x400;
const NLM_F_EXCL = 0x200;
const NLM_F_REPLACE = 0x100;
const TCA_KIND = 1;
const TCA_OPTIONS = 2;
const TCA_BPF_FD = 6;
const TCA_BPF_NAME = 7;
const TCA_BPF_FLAGS = 8;
const TCA_BPF_FLAG_ACT_DIRECT = 1;
const TC_H_CLSACT = 0xfffffff1;
const TC_H_INGRESS_HOOK = 0xfffffff2;
const EEXIST = 17;

// ------------------------------------------------------------------ bytecode

type Insn = [code: number, dst: number, src: number, off: number, imm: number];
const movImm = (dst: number, imm: number): Insn => [0xb7, dst, 0, 0, imm];
const movReg = (dst: number, src: number): Insn => [0xbf, dst, src, 0, 0];
const andImm = (dst: number, imm: number): Insn => [0x57, dst, 0, 0, imm];
const ldxW = (dst: number, src: number, off: number): Insn => [0x61, dst, src, off, 0];
const jeqImm = (dst: number, imm: number, off: number): Insn => [0x15, dst, 0, off, imm];
const jneImm = (dst: number, imm: number, off: number): Insn => [0x55, dst, 0, off, imm];
const call = (helper: number): Insn => [0x85, 0, 0, 0, helper];
const exit = (): Insn => [0x95, 0, 0, 0, 0];

export function encodeInsns(insns: Insn[]): Buffer {
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach(([code, dst, src, off, imm], i) => {
    b.writeUInt8(code, i * 8);
    b.writeUInt8((dst & 0xf) | ((src & 0xf) << 4), i * 8 + 1);
    b.writeInt16LE(off, i * 8 + 2);
    b.writeInt32LE(imm | 0, i * 8 + 4);
  });
  return b;
}

/** Pod veth ingress: tag with `vid`, out of the parent. */
export function pushProgram(vid: number, parentIndex: number): Insn[] {
  return [
    movImm(2, VLAN_PROTO_BE), movImm(3, vid), call(HELPER_SKB_VLAN_PUSH), // r1 is still the skb
    jneImm(0, 0, 4),
    movImm(1, parentIndex), movImm(2, 0), call(HELPER_REDIRECT), exit(),
    movImm(0, TC_ACT_SHOT), exit(),
  ];
}

/** Parent ingress: a frame tagged with a pod's id loses the tag and goes to that pod's veth. */
export function demuxProgram(pods: { vid: number; index: number }[]): Insn[] {
  const head: Insn[] = [movReg(6, 1), ldxW(2, 6, SKB_VLAN_PRESENT), jneImm(2, 0, 2), movImm(0, TC_ACT_OK), exit(), ldxW(7, 6, SKB_VLAN_TCI), andImm(7, 0xfff)];
  const block = (index: number): Insn[] => [movReg(1, 6), call(HELPER_SKB_VLAN_POP), movImm(1, index), movImm(2, 0), call(HELPER_REDIRECT), exit()];
  const BLOCK = 6;
  // Compares, then the fall-through (not ours: on to the VM's stack), then one block per pod.
  const compares = pods.map((p, i): Insn => jeqImm(7, p.vid, pods.length - i - 1 + 2 + i * BLOCK));
  return [...head, ...compares, movImm(0, TC_ACT_OK), exit(), ...pods.flatMap((p) => block(p.index))];
}

/** Loads a tc program; the caller closes the fd once it is attached. */
export function loadTcProgram(insns: Insn[], name: string): number {
  const c = getLibc();
  const code = encodeInsns(insns);
  const license = Buffer.from('GPL\0');
  const log = Buffer.alloc(16 * 1024);
  const attr = Buffer.alloc(128);
  attr.writeUInt32LE(BPF_PROG_TYPE_SCHED_CLS, 0);
  attr.writeUInt32LE(insns.length, 4);
  attr.writeBigUInt64LE(c.addressOf(code), 8);
  attr.writeBigUInt64LE(c.addressOf(license), 16);
  attr.writeUInt32LE(1, 24);
  attr.writeUInt32LE(log.length, 28);
  attr.writeBigUInt64LE(c.addressOf(log), 32);
  Buffer.from(name.slice(0, 15)).copy(attr, 48);
  const fd = c.bpf(BPF_PROG_LOAD, attr, attr.length);
  if (fd < 0) {
    const z = log.indexOf(0);
    throw new NetdevError(`loading tc program ${name}`, c.errno(), log.toString('utf8', 0, z < 0 ? log.length : z).trim().split('\n').slice(-2).join('; '));
  }
  return fd;
}

function tcmsg(ifindex: number, handle: number, parent: number, info: number): Buffer {
  const b = Buffer.alloc(20);
  b.writeInt32LE(ifindex, 4);
  b.writeUInt32LE(handle >>> 0, 8);
  b.writeUInt32LE(parent >>> 0, 12);
  b.writeUInt32LE(info >>> 0, 16);
  return b;
}

/** Adds the clsact qdisc to a link (fine if it is there already). */
export function ensureClsact(rtnl: RtnlSocket, ifindex: number, label: string): void {
  try {
    rtnl.request(`adding clsact to ${label}`, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, tcmsg(ifindex, 0xffff0000, TC_H_CLSACT, 0), [attrStr(TCA_KIND, 'clsact')]);
  } catch (err) {
    if (!(err instanceof NetdevError && err.errno === EEXIST)) throw err;
  }
}

/** Puts the program on the link's ingress hook, replacing the one there (one filter, prio 1, handle 1). */
export function attachIngress(rtnl: RtnlSocket, ifindex: number, label: string, insns: Insn[], name: string): void {
  ensureClsact(rtnl, ifindex, label);
  const fd = loadTcProgram(insns, name);
  try {
    const opts: Attr[] = [attrU32(TCA_BPF_FD, fd), attrStr(TCA_BPF_NAME, name), attrU32(TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT)];
    const info = (1 << 16) | 0x0300; // prio 1, protocol htons(ETH_P_ALL)
    rtnl.request(`attaching ${name} to ${label} ingress`, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_REPLACE, tcmsg(ifindex, 1, TC_H_INGRESS_HOOK, info), [
      attrStr(TCA_KIND, 'bpf'),
      attrNested(TCA_OPTIONS, opts),
    ]);
  } finally {
    getLibc().close(fd);
  }
}
