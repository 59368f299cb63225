import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentRequest } from '../../../lib/cni-protocol.js';
import { MAX_LINE_BYTES } from '../../../lib/cni-protocol.js';
import { agentTiming, callAgent } from '../../../cni/agent-client.js';
import { AgentUnreachableError, CniError } from '../../../cni/errors.js';

const req: AgentRequest = { command: 'ADD', containerId: 'c1', netns: '/var/run/netns/x', ifname: 'eth0', cniVersion: '1.0.0', config: { annotationTimeoutMs: 1, ovnInstalledTimeoutMs: 1 } };

describe('cni: agent client framing', () => {
  let dir: string;
  let server: Server | undefined;
  let onLine: (line: string, sock: Socket) => void = () => undefined;
  let sock: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tcn-client-'));
    sock = join(dir, 'agent.sock');
    server = createServer((s) => {
      let buf = '';
      s.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('\n')) onLine(buf.slice(0, buf.indexOf('\n')), s);
      });
    });
    await new Promise<void>((r) => server!.listen(sock, () => r()));
  });

  after(async () => {
    await new Promise<void>((r) => server!.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  const rejectsWith = async (p: Promise<unknown>, code: number, msg: RegExp, cls: abstract new (...args: never[]) => CniError = CniError): Promise<void> => {
    await assert.rejects(p, (e: unknown) => e instanceof cls && (e as CniError).code === code && msg.test((e as Error).message));
  };

  it('sends exactly one JSON line and reads an answer that arrives in pieces', async () => {
    let got = '';
    onLine = (line, s) => {
      got = line;
      const answer = JSON.stringify({ ok: true, result: { cniVersion: '1.0.0', interfaces: [], ips: [] } }) + '\n';
      s.write(answer.slice(0, 7));
      setTimeout(() => s.end(answer.slice(7)), 20);
    };
    const res = await callAgent(sock, req, 2000);
    assert.deepEqual(JSON.parse(got), req);
    assert.deepEqual(res, { ok: true, result: { cniVersion: '1.0.0', interfaces: [], ips: [] } });
    assert.ok(agentTiming.totalMs >= 20 && agentTiming.connectMs <= agentTiming.totalMs);
  });

  it('accepts an answer closed without a trailing newline', async () => {
    onLine = (_l, s) => s.end(JSON.stringify({ ok: false, code: 3, msg: 'unknown' }));
    assert.deepEqual(await callAgent(sock, req, 2000), { ok: false, code: 3, msg: 'unknown' });
  });

  it('rejects answers that are not the protocol with code 5', async () => {
    onLine = (_l, s) => s.end('{"ok":"yes"}\n');
    await rejectsWith(callAgent(sock, req, 2000), 5, /without a boolean "ok"/);
    onLine = (_l, s) => s.end('{"ok":false,"msg":"x"}\n');
    await rejectsWith(callAgent(sock, req, 2000), 5, /without numeric "code"/);
  });

  it('rejects an oversized answer with code 5 without waiting for the rest', async () => {
    onLine = (_l, s) => s.write('x'.repeat(MAX_LINE_BYTES + 10));
    await rejectsWith(callAgent(sock, req, 5000), 5, /exceeds/);
  });

  it('times out with code 11 when the agent accepts but never answers', async () => {
    onLine = () => undefined;
    await rejectsWith(callAgent(sock, req, 150), 11, /no answer from tessera-agent .* within 150 ms for ADD/);
  });

  it('socket missing or refusing: AgentUnreachableError (code 11)', async () => {
    await rejectsWith(callAgent(join(dir, 'none.sock'), req, 1000), 11, /ENOENT/, AgentUnreachableError);
    const plain = join(dir, 'plain');
    writeFileSync(plain, '');
    await rejectsWith(callAgent(plain, req, 1000), 11, /ECONNREFUSED/, AgentUnreachableError);
  });
});
