// FakeAgent: tessera-agent's REAL CNI server (agent/cni-server.ts: framing, the plugin logic of cni/ run on
// the native shim's raw request) with a TEST DOUBLE of the agent's handlers, for testing the CNI plugin
// only (env and config handling, version conversion, chaining through cnitool, the shim's own answers).
// The double does just enough real work for chained reference plugins to act on our result: a veth with
// the peer in the pod netns, an address, a route. No OVS, no OVN; the real agent's data path is tested by
// the agent's own tests and test/integration/cni/agent-*.test.ts. Modes other than 'normal' answer at the
// socket level, as a broken agent would.
import { createServer, type Server, type Socket } from 'node:net';
import { basename } from 'node:path';
import { rmSync } from 'node:fs';
import { serveCniConnection } from '../../../agent/cni-server.js';
import { hostVethName, type AgentRequest, type AgentResponse, type Result1x } from '../../../lib/cni-protocol.js';
import { createLogger } from '../../../lib/log.js';
import { macFromIPv4 } from '../../../lib/ovn/names.js';
import { sh, succeeds } from '../../../testkit/cni.js';

/** normal: answers; hang: never answers; close: hangs up; garbage: not JSON; shapeless: JSON of the wrong shape; endless: no newline, 5 MiB. */
export type FakeMode = 'normal' | 'garbage' | 'close' | 'hang' | 'shapeless' | 'endless';

const log = createLogger('fake-agent', { level: 'error' });

interface Attachment {
  containerId: string;
  ifname: string;
  hostVeth: string;
  podNetns: string;
  address: string;
}

export class FakeAgent {
  readonly requests: AgentRequest[] = [];
  readonly attachments = new Map<string, Attachment>();
  mode: FakeMode = 'normal';
  ready = true;
  /** Code STATUS answers with while not ready (50 or 51). */
  notReadyCode = 50;
  private server?: Server;
  private sockets = new Set<Socket>();
  private nextHost = 10;

  /** @param subnet first three octets of the pod /24, only ever configured inside test netns */
  constructor(
    readonly socketPath: string,
    readonly nodeNetns: string,
    readonly subnet = '10.99.0',
  ) {}

  start(): Promise<void> {
    rmSync(this.socketPath, { force: true });
    this.server = createServer((sock) => this.serve(sock));
    return new Promise((res, rej) => {
      this.server!.once('error', rej);
      this.server!.listen(this.socketPath, () => res());
    });
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((res) => (this.server ? this.server.close(() => res()) : res()));
    rmSync(this.socketPath, { force: true });
  }

  last(command: AgentRequest['command']): AgentRequest | undefined {
    return [...this.requests].reverse().find((r) => r.command === command);
  }

  private serve(sock: Socket): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    if (this.mode === 'normal') return serveCniConnection(sock, (req) => this.answer(req), log);
    let buf = '';
    sock.on('error', () => undefined); // the shim hangs up on an oversize answer
    sock.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      if (this.mode === 'hang') return;
      if (this.mode === 'close') return void sock.end();
      if (this.mode === 'garbage') return void sock.end('this is not json\n');
      if (this.mode === 'shapeless') return void sock.end('{"ok":true}\n');
      if (this.mode === 'endless') return void sock.end('{"exitCode":0,"stdout":"' + 'x'.repeat(5 << 20));
    });
  }

  private async answer(req: AgentRequest): Promise<AgentResponse> {
    this.requests.push(req);
    try {
      switch (req.command) {
        case 'ADD':
          return { ok: true, result: await this.add(req) };
        case 'DEL':
          await this.del(req.containerId, req.ifname);
          return { ok: true };
        case 'CHECK':
          return await this.check(req);
        case 'GC': {
          const valid = new Set((req.validAttachments ?? []).map((a) => `${a.containerId}/${a.ifname}`));
          for (const a of [...this.attachments.values()]) if (!valid.has(`${a.containerId}/${a.ifname}`)) await this.del(a.containerId, a.ifname);
          return { ok: true };
        }
        case 'STATUS':
          return this.ready ? { ok: true } : { ok: false, code: this.notReadyCode, msg: 'fake agent: not ready' };
      }
    } catch (e) {
      return { ok: false, code: 5, msg: `fake agent: ${(e as Error).message}` };
    }
  }

  private async add(req: AgentRequest): Promise<Result1x> {
    const host = hostVethName(req.containerId, req.ifname);
    const pod = basename(req.netns);
    const ip = `${this.subnet}.${this.nextHost++}`;
    const gw = `${this.subnet}.1`;
    const mac = macFromIPv4(ip);
    const mtu = req.config.mtu ?? 1400;
    try {
      await sh('ip', ['-n', this.nodeNetns, 'link', 'add', host, 'type', 'veth', 'peer', 'name', req.ifname, 'netns', pod]);
      await sh('ip', ['-n', pod, 'link', 'set', req.ifname, 'address', mac, 'mtu', String(mtu), 'up']);
      await sh('ip', ['-n', pod, 'addr', 'add', `${ip}/24`, 'dev', req.ifname]);
      await sh('ip', ['-n', pod, 'route', 'add', '10.96.0.0/16', 'via', gw, 'dev', req.ifname]);
      await sh('ip', ['-n', this.nodeNetns, 'link', 'set', host, 'mtu', String(mtu), 'up']);
    } catch (e) {
      await succeeds('ip', ['-n', this.nodeNetns, 'link', 'del', host]); // a failed ADD leaves nothing
      throw e;
    }
    const hostMac = (JSON.parse(await sh('ip', ['-n', this.nodeNetns, '-j', 'link', 'show', host])) as { address: string }[])[0].address;
    this.attachments.set(`${req.containerId}/${req.ifname}`, { containerId: req.containerId, ifname: req.ifname, hostVeth: host, podNetns: pod, address: `${ip}/24` });
    return {
      cniVersion: '1.1.0',
      interfaces: [
        { name: host, mac: hostMac, mtu },
        { name: req.ifname, mac, mtu, sandbox: req.netns },
      ],
      ips: [{ address: `${ip}/24`, gateway: gw, interface: 1 }],
      routes: [{ dst: '10.96.0.0/16', gw }],
      dns: {},
    };
  }

  private async del(containerId: string, ifname: string): Promise<void> {
    const host = hostVethName(containerId, ifname);
    if (await succeeds('ip', ['-n', this.nodeNetns, 'link', 'show', host])) await sh('ip', ['-n', this.nodeNetns, 'link', 'del', host]);
    this.attachments.delete(`${containerId}/${ifname}`);
  }

  private async check(req: AgentRequest): Promise<AgentResponse> {
    const a = this.attachments.get(`${req.containerId}/${req.ifname}`);
    if (!a) return { ok: false, code: 3, msg: `fake agent: container ${req.containerId} interface ${req.ifname} is unknown` };
    const want = req.prevResult?.ips?.map((i) => i.address) ?? [];
    const addrs = JSON.parse(await sh('ip', ['-n', a.podNetns, '-j', 'addr', 'show', 'dev', req.ifname])) as { addr_info: { local: string; prefixlen: number }[] }[];
    const have = addrs.flatMap((l) => l.addr_info.map((i) => `${i.local}/${i.prefixlen}`));
    const missing = want.filter((w) => !have.includes(w));
    if (missing.length || want.length === 0) return { ok: false, code: 100, msg: `fake agent: ${req.ifname} lacks ${missing.join(', ') || 'any prevResult address'}` };
    return { ok: true };
  }
}
