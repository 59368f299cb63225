// The tc programs of the VLAN fallback, run through a tiny interpreter of the instructions they use: the parent's
// program sends each pod's tag to that pod's veth (popped) and passes everything else; the pod's pushes its tag.
import assert from 'node:assert/strict';
import { demuxProgram, encodeInsns, pushProgram } from '../../../lib/netdev/vlan-bpf.js';

type Outcome = { verdict: number; calls: string[] };

/** Runs the subset (mov, and, ldxw from the skb, jeq/jne, call, exit) on an skb with the given VLAN fields. */
function runProgram(code: Buffer, skb: { vlanPresent: number; vlanTci: number }): Outcome {
  const r = new Array<number>(11).fill(0);
  r[1] = -1; // the ctx pointer
  const calls: string[] = [];
  for (let pc = 0, steps = 0; steps < 10_000; steps++) {
    const op = code.readUInt8(pc * 8);
    const regs = code.readUInt8(pc * 8 + 1);
    const [dst, src] = [regs & 0xf, regs >> 4];
    const off = code.readInt16LE(pc * 8 + 2);
    const imm = code.readInt32LE(pc * 8 + 4);
    pc++;
    switch (op) {
      case 0xb7: r[dst] = imm; break;
      case 0xbf: r[dst] = r[src]; break;
      case 0x57: r[dst] &= imm; break;
      case 0x61:
        assert.equal(r[src], -1, 'loads only from the skb');
        r[dst] = off === 20 ? skb.vlanPresent : off === 24 ? skb.vlanTci : NaN;
        break;
      case 0x15: if (r[dst] === imm) pc += off; break;
      case 0x55: if (r[dst] !== imm) pc += off; break;
      case 0x85:
        calls.push(imm === 18 ? `push ${r[2]} ${r[3]}` : imm === 19 ? 'pop' : imm === 23 ? `redirect ${r[1]}` : `helper ${imm}`);
        r[0] = imm === 23 ? 7 : 0;
        for (const i of [1, 2, 3, 4, 5]) r[i] = NaN; // caller-saved registers are clobbered
        break;
      case 0x95: return { verdict: r[0], calls };
      default: assert.fail(`unexpected opcode ${op.toString(16)}`);
    }
  }
  assert.fail('program did not exit');
}

describe('netdev: VLAN tc programs', () => {
  it("the parent's program pops and redirects each pod's tag to its veth, and passes untagged or unknown frames", () => {
    const pods = [{ vid: 101, index: 11 }, { vid: 7, index: 12 }, { vid: 4094, index: 13 }];
    const code = encodeInsns(demuxProgram(pods));
    for (const p of pods) {
      // The priority bits above the id do not matter.
      assert.deepEqual(runProgram(code, { vlanPresent: 1, vlanTci: p.vid | 0xe000 }), { verdict: 7, calls: ['pop', `redirect ${p.index}`] });
    }
    assert.deepEqual(runProgram(code, { vlanPresent: 0, vlanTci: 0 }), { verdict: 0, calls: [] });
    assert.deepEqual(runProgram(code, { vlanPresent: 1, vlanTci: 55 }), { verdict: 0, calls: [] });
    assert.deepEqual(runProgram(encodeInsns(demuxProgram([])), { vlanPresent: 1, vlanTci: 101 }), { verdict: 0, calls: [] });
  });

  it("a pod's program pushes its 802.1Q tag and redirects to the parent", () => {
    assert.deepEqual(runProgram(encodeInsns(pushProgram(101, 5)), { vlanPresent: 0, vlanTci: 0 }), { verdict: 7, calls: ['push 129 101', 'redirect 5'] });
  });
});
