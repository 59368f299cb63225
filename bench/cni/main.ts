// bench/cni: CNI ADD and ADD+DEL latency through the reference client (cnitool, as containerd's libcni runs
// plugins), p50/p99 over >= 50 pods, against Debian's reference bridge + host-local measured in the same run.
// Everything runs in netns made here (prefix tcn-): cnitool runs inside a "node" netns, so the reference
// bridge and its gateway address live there, never in the root netns.
//
// tessera-cni runs against the REAL tessera-agent on a one-node lab (OVS netdev + OVN + API test server;
// the bench writes each pod's annotation and logical switch port, as the watcher would). If that cannot
// start, it falls back to a no-op agent and says so: that figure is the shim's own overhead only.
// Env: BENCH_CNI_PODS (default 50), BENCH_CNI_AGENT=real|noop (default: real, falling back to noop).
import { createServer, type Server } from 'node:net';
import { existsSync, mkdirSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { hostVethName, type AgentRequest, type AgentResponse } from '../../lib/cni-protocol.js';
import { addNetns, cnitool, delNetns, requireBuilt, SHIM, spawnCollect, tmpDir, baseEnv, type Run } from '../../test/integration/cni/fixture.js';
import { agentAddTimings, startAgentNode, type AgentNode } from '../../test/integration/cni/agent-node.js';

const N = Number(process.env.BENCH_CNI_PODS ?? 50);
const WARMUP = 3;
const MODE = process.env.BENCH_CNI_AGENT ?? 'real';
const CA_FILE = process.env.NODE_EXTRA_CA_CERTS || '/etc/ssl/certs/ca-certificates.crt';
const tag = String(process.pid % 100000);
const refHost = `tcn-br${tag}`;
const tesHost = `tcn-bt${tag}`;
const refNet = `tcn-bench-ref-${tag}`;
const tesNet = `tcn-bench-tes-${tag}`;
const dir = tmpDir('tcn-bench-');

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
const f = (x: number): string => x.toFixed(1).padStart(12);

function ok(r: Run, what: string): number {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}): ${r.stdout.trim()} ${r.stderr.trim()}`);
  return r.ms;
}

/** Agent stand-in that answers at once with a plausible result: measures the shim + cnitool, nothing else. */
function noopAgent(socketPath: string): Promise<Server> {
  const server = createServer((sock) => {
    let buf = '';
    sock.on('data', (d: Buffer) => {
      buf += d.toString();
      if (!buf.includes('\n')) return;
      const req = JSON.parse(buf.slice(0, buf.indexOf('\n'))) as AgentRequest;
      const res: AgentResponse = req.command !== 'ADD' ? { ok: true } : {
        ok: true,
        result: {
          cniVersion: req.cniVersion,
          interfaces: [{ name: hostVethName(req.containerId, req.ifname), mac: '0a:58:0a:63:00:01' }, { name: req.ifname, mac: '0a:58:0a:63:00:05', sandbox: req.netns }],
          ips: [{ address: '10.99.0.5/24', gateway: '10.99.0.1', interface: 1 }],
          routes: [],
          dns: {},
        },
      };
      sock.end(JSON.stringify(res) + '\n');
    });
  });
  return new Promise((res) => server.listen(socketPath, () => res(server)));
}

async function startupMs(cmd: string, extraEnv: Record<string, string>, runs: number): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) xs.push(ok(await spawnCollect(cmd, [], baseEnv({ CNI_COMMAND: 'VERSION', ...extraEnv }), '{"cniVersion":"1.0.0"}'), `${cmd} VERSION`));
  return pct(xs, 50);
}

const cleanups: (() => Promise<void> | void)[] = [];
try {
  requireBuilt();
  mkdirSync(dir, { recursive: true });
  process.stdout.write(`bench/cni: ${N} pods (+${WARMUP} warm-up), sequential, cnitool (libcni 1.1.2) inside a node netns\n`);

  // Start-up of one plugin process (what the runtime pays per call), interleaved to share the machine's noise.
  const s = { without: [] as number[], with: [] as number[], bridge: [] as number[] };
  for (let i = 0; i < 5; i++) {
    s.without.push(await startupMs(SHIM, {}, 6));
    s.with.push(await startupMs(SHIM, { NODE_EXTRA_CA_CERTS: CA_FILE }, 6));
    s.bridge.push(await startupMs('/usr/lib/cni/bridge', {}, 6));
  }

  // Reference: bridge + host-local, bridge and gateway address inside the reference node netns.
  await delNetns(refHost);
  await addNetns(refHost);
  cleanups.push(() => delNetns(refHost));
  const tool = cnitool(join(dir, 'net.d'));
  tool.conflist(refNet, '1.0.0', [
    { type: 'bridge', bridge: 'tcnbr0', isGateway: true, ipMasq: false, mtu: 1400, ipam: { type: 'host-local', ranges: [[{ subnet: '10.98.0.0/16' }]], dataDir: join(dir, 'host-local') } },
  ]);

  // Tessera: real agent on a one-node lab, else the no-op agent.
  let node: AgentNode | undefined;
  let label = 'tessera-cni + real tessera-agent (OVS netdev, OVN)';
  if (MODE === 'real') {
    try {
      node = await startAgentNode({ prefix: 'tcn-bl-', stateDir: join(dir, 'lab') });
      const n = node;
      cleanups.push(() => n.stop());
    } catch (err) {
      process.stdout.write(`NOTE: real agent unavailable, falling back to the no-op agent: ${(err as Error).message.split('\n')[0]}\n`);
    }
  }
  let agentSocket: string;
  let hostNetns: string;
  if (node) {
    agentSocket = node.agentSocket;
    hostNetns = node.nodeNetns;
  } else {
    label = 'tessera-cni + NO-OP agent (shim only, no netns/OVS work)';
    agentSocket = join(dir, 'noop.sock');
    const server = await noopAgent(agentSocket);
    cleanups.push(() => void server.close());
    await delNetns(tesHost);
    await addNetns(tesHost);
    cleanups.push(() => delNetns(tesHost));
    hostNetns = tesHost;
  }
  tool.conflist(tesNet, '1.0.0', [{ type: 'tessera-cni', agentSocket, logFile: join(dir, 'tessera-cni.log'), mtu: 1400 }]);

  const ref = { add: [] as number[], addDel: [] as number[] };
  const tes = { add: [] as number[], addDel: [] as number[], pods: [] as string[] };
  for (let i = 0; i < N + WARMUP; i++) {
    const rNs = `tcn-br${tag}-${i}`;
    await addNetns(rNs);
    cleanups.push(() => delNetns(rNs));
    const rAdd = ok(await tool.run('add', refNet, `/var/run/netns/${rNs}`, { hostNetns: refHost }), 'reference ADD');
    const rDel = ok(await tool.run('del', refNet, `/var/run/netns/${rNs}`, { hostNetns: refHost }), 'reference DEL');

    let path: string;
    let podName = `bench-${i}`;
    if (node) {
      const p = await node.addPod(podName);
      path = p.netnsPath;
    } else {
      const tNs = `tcn-bt${tag}-${i}`;
      await addNetns(tNs);
      cleanups.push(() => delNetns(tNs));
      path = `/var/run/netns/${tNs}`;
    }
    const args = `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${podName}`;
    const tAdd = ok(await tool.run('add', tesNet, path, { hostNetns, cniArgs: args }), 'tessera ADD');
    const tDel = ok(await tool.run('del', tesNet, path, { hostNetns, cniArgs: args }), 'tessera DEL');
    if (i < WARMUP) continue;
    ref.add.push(rAdd);
    ref.addDel.push(rAdd + rDel);
    tes.add.push(tAdd);
    tes.addDel.push(tAdd + tDel);
    tes.pods.push(`default/${podName}`);
  }

  const row = (name: string, a: number[], ad: number[]): string => `${name.padEnd(58)}${f(pct(a, 50))}${f(pct(a, 99))}${f(pct(ad, 50))}${f(pct(ad, 99))}\n`;
  let out = `${'(ms)'.padEnd(58)}${['ADD p50', 'ADD p99', 'ADD+DEL p50', 'ADD+DEL p99'].map((h) => h.padStart(12)).join('')}\n`;
  out += row('reference bridge + host-local', ref.add, ref.addDel);
  out += row(label, tes.add, tes.addDel);
  let cmpAdd = tes.add;
  if (node) {
    const timings = agentAddTimings(node.agentLog);
    const installed = tes.pods.map((p) => timings.get(p)?.ovnInstalled ?? NaN);
    if (installed.some((x) => Number.isNaN(x))) throw new Error(`agent log ${node.agentLog} lacks "ADD done" timings for some pods`);
    cmpAdd = tes.add.map((a, i) => a - installed[i]);
    out += row('tessera-cni ADD excluding the wait for ovn-installed', cmpAdd, tes.addDel.map((a, i) => a - installed[i]));
    out += `ADD-to-ovn-installed (agent-measured, port added -> ovn-installed): p50 ${pct(installed, 50).toFixed(1)} ms, p99 ${pct(installed, 99).toFixed(1)} ms\n`;
  }
  out += `ratio tessera/reference ADD p50${node ? ' (excluding ovn-installed)' : ''}: ${(pct(cmpAdd, 50) / pct(ref.add, 50)).toFixed(2)}x` +
    `   ADD+DEL p50: ${(pct(tes.addDel, 50) / pct(ref.addDel, 50)).toFixed(2)}x\n`;
  out += `start-up, one VERSION call (p50 of 5x6 interleaved): tessera-cni SEA ${pct(s.without, 50).toFixed(1)} ms without NODE_EXTRA_CA_CERTS, ` +
    `${pct(s.with, 50).toFixed(1)} ms with it; reference bridge ${pct(s.bridge, 50).toFixed(1)} ms\n`;
  process.stdout.write(out);
} finally {
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch (e) {
      process.stderr.write(`cleanup: ${(e as Error).message}\n`);
    }
  }
  // cnitool's cache entries of our two networks (a DEL removes them; this covers an interrupted run).
  const cache = '/var/lib/cni/results';
  if (existsSync(cache)) for (const fl of readdirSync(cache)) if (fl.startsWith(`${refNet}-`) || fl.startsWith(`${tesNet}-`)) unlinkSync(join(cache, fl));
  rmSync(dir, { recursive: true, force: true });
}
