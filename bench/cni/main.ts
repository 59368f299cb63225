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
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { serveCniConnection } from '../../agent/cni-server.js';
import { hostVethName, type AgentResponse } from '../../lib/cni-protocol.js';
import { createLogger } from '../../lib/log.js';
import { addNetns, cnitool, delNetns, requireBuilt, SHIM, spawnCollect, tmpDir, baseEnv, type Run } from '../../testkit/cni.js';
import { agentAddTimings, startAgentNode, type AgentNode } from '../../testkit/agent-node.js';
import { pct } from '../lib/harness.js';

const N = Number(process.env.BENCH_CNI_PODS ?? 50);
const WARMUP = 3;
const MODE = process.env.BENCH_CNI_AGENT ?? 'real';
const CPU_VERSION_RUNS = 200;
const CPU_ADD_RUNS = 20;
const tag = String(process.pid % 100000);
const refHost = `tcn-br${tag}`;
const tesHost = `tcn-bt${tag}`;
const refNet = `tcn-bench-ref-${tag}`;
const tesNet = `tcn-bench-tes-${tag}`;
const dir = tmpDir('tcn-bench-');

const f = (x: number): string => x.toFixed(1).padStart(12);

function ok(r: Run, what: string): number {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}): ${r.stdout.trim()} ${r.stderr.trim()}`);
  return r.ms;
}

/** Agent stand-in: the real CNI server and plugin logic, handlers that answer at once with a plausible result. */
function noopAgent(socketPath: string): Promise<Server> {
  const log = createLogger('bench-noop-agent', { level: 'error' });
  const server = createServer((sock) =>
    serveCniConnection(sock, async (req): Promise<AgentResponse> => req.command !== 'ADD' ? { ok: true } : {
      ok: true,
      result: {
        cniVersion: req.cniVersion,
        interfaces: [{ name: hostVethName(req.containerId, req.ifname), mac: '0a:58:0a:63:00:01' }, { name: req.ifname, mac: '0a:58:0a:63:00:05', sandbox: req.netns }],
        ips: [{ address: '10.99.0.5/24', gateway: '10.99.0.1', interface: 1 }],
        routes: [],
        dns: {},
      },
    }, log),
  );
  return new Promise((res) => server.listen(socketPath, () => res(server)));
}

async function startupMs(cmd: string, runs: number): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) xs.push(ok(await spawnCollect(cmd, [], baseEnv({ CNI_COMMAND: 'VERSION' }), '{"cniVersion":"1.0.0"}'), `${cmd} VERSION`));
  return pct(xs, 50);
}

const TICK_MS = 10; // USER_HZ = 100 on Linux
/** user+sys ms of a process (self, or with reaped children: cutime/cstime), from /proc/<pid>/stat. */
function cpuMs(pid: number | 'self', children: boolean): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
  const [ut, st, cut, cst] = [11, 12, 13, 14].map((i) => Number(f[i]));
  return (children ? cut + cst : ut + st) * TICK_MS;
}
/** CPU of the children reaped while fn ran (nothing else of ours exits meanwhile). */
async function childCpuMs(fn: () => Promise<unknown>): Promise<number> {
  const before = cpuMs('self', true);
  await fn();
  return cpuMs('self', true) - before;
}

/** The pid of the tessera-agent serving `socket` (started by this bench's lab). */
function agentPid(socket: string): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (argv[0].endsWith('tessera-agent') && argv.includes(socket)) return Number(d);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

const cleanups: (() => Promise<void> | void)[] = [];
try {
  requireBuilt();
  mkdirSync(dir, { recursive: true });
  process.stdout.write(`bench/cni: ${N} pods (+${WARMUP} warm-up), sequential, cnitool (libcni 1.1.2) inside a node netns\n`);

  // Start-up of one plugin process (what the runtime pays per call), interleaved to share the machine's noise.
  const s = { shim: [] as number[], bridge: [] as number[] };
  for (let i = 0; i < 5; i++) {
    s.shim.push(await startupMs(SHIM, 6));
    s.bridge.push(await startupMs('/usr/lib/cni/bridge', 6));
  }
  const versionCpu = { shim: 0, bridge: 0 };
  for (const [k, cmd] of [['shim', SHIM], ['bridge', '/usr/lib/cni/bridge']] as const) {
    versionCpu[k] = (await childCpuMs(async () => {
      for (let i = 0; i < CPU_VERSION_RUNS; i++) ok(await spawnCollect(cmd, [], baseEnv({ CNI_COMMAND: 'VERSION' }), '{"cniVersion":"1.0.0"}'), `${cmd} VERSION`);
    })) / CPU_VERSION_RUNS;
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

  // CPU per ADD, plugins called directly as a runtime does (no cnitool in the figure). The reference runs in
  // its node netns through `ip netns exec`, whose own CPU (measured alone) is taken off.
  const cpu = { ref: 0, wrapper: 0, shim: 0, agent: NaN };
  const refConf = JSON.stringify({ cniVersion: '1.0.0', name: refNet, type: 'bridge', bridge: 'tcnbr0', isGateway: true, ipMasq: false, mtu: 1400, ipam: { type: 'host-local', ranges: [[{ subnet: '10.98.0.0/16' }]], dataDir: join(dir, 'host-local') } });
  const tesConf = JSON.stringify({ cniVersion: '1.0.0', name: tesNet, type: 'tessera-cni', agentSocket, logFile: join(dir, 'tessera-cni.log'), mtu: 1400 });
  const pid = node ? agentPid(agentSocket) : undefined;
  let agentCpu = 0;
  for (let i = 0; i < CPU_ADD_RUNS; i++) {
    const rNs = `tcn-br${tag}-c${i}`;
    await addNetns(rNs);
    cleanups.push(() => delNetns(rNs));
    const rEnv = (cmd: string): Record<string, string | undefined> => baseEnv({ CNI_COMMAND: cmd, CNI_CONTAINERID: `cpu${i}`, CNI_NETNS: `/var/run/netns/${rNs}`, CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni' });
    const inRef = ['netns', 'exec', refHost, '/usr/lib/cni/bridge'];
    cpu.ref += await childCpuMs(async () => ok(await spawnCollect('ip', inRef, rEnv('ADD'), refConf), 'reference ADD (direct)'));
    ok(await spawnCollect('ip', inRef, rEnv('DEL'), refConf), 'reference DEL (direct)');
    cpu.wrapper += await childCpuMs(async () => ok(await spawnCollect('ip', ['netns', 'exec', refHost, '/bin/true'], baseEnv(), undefined), 'ip netns exec true'));

    const podName = `bench-cpu-${i}`;
    let path: string;
    if (node) path = (await node.addPod(podName)).netnsPath;
    else {
      const tNs = `tcn-bt${tag}-c${i}`;
      await addNetns(tNs);
      cleanups.push(() => delNetns(tNs));
      path = `/var/run/netns/${tNs}`;
    }
    const tEnv = (cmd: string): Record<string, string | undefined> => baseEnv({ CNI_COMMAND: cmd, CNI_CONTAINERID: `cpu${i}`, CNI_NETNS: path, CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin', CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${podName}` });
    const a0 = pid ? cpuMs(pid, false) : 0;
    cpu.shim += await childCpuMs(async () => ok(await spawnCollect(SHIM, [], tEnv('ADD'), tesConf), 'tessera ADD (direct)'));
    if (pid) agentCpu += cpuMs(pid, false) - a0;
    ok(await spawnCollect(SHIM, [], tEnv('DEL'), tesConf), 'tessera DEL (direct)');
  }
  const addCpu = { ref: Math.max(0, cpu.ref - cpu.wrapper) / CPU_ADD_RUNS, shim: cpu.shim / CPU_ADD_RUNS, agent: pid ? agentCpu / CPU_ADD_RUNS : NaN };

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
  out += `ratio tessera/reference ADD p50${node ? ' (excluding ovn-installed)' : ''}: ${(pct(cmpAdd, 50) / pct(ref.add, 50)).toFixed(2)}x (goal <= 1.3x)` +
    `   ADD+DEL p50: ${(pct(tes.addDel, 50) / pct(ref.addDel, 50)).toFixed(2)}x\n`;
  out += `start-up, one VERSION call (p50 of 5x6 interleaved): tessera-cni ${pct(s.shim, 50).toFixed(1)} ms; reference bridge ${pct(s.bridge, 50).toFixed(1)} ms\n`;
  // Child CPU is counted in 10 ms ticks over the whole series: a figure below 10 ms / runs reads as 0.
  const ms = (x: number): string => x.toFixed(2);
  out += `CPU per invocation (user+sys), VERSION (${CPU_VERSION_RUNS} calls, resolution ${(TICK_MS / CPU_VERSION_RUNS).toFixed(2)} ms): tessera-cni ${ms(versionCpu.shim)} ms, reference bridge ${ms(versionCpu.bridge)} ms` +
    ` -> ratio ${(versionCpu.shim / versionCpu.bridge).toFixed(2)}x (goal <= 2x)\n`;
  out += `CPU per invocation (user+sys), ADD (${CPU_ADD_RUNS} direct calls, resolution ${(TICK_MS / CPU_ADD_RUNS).toFixed(2)} ms): tessera-cni ${ms(addCpu.shim)} ms, reference bridge + host-local ${ms(addCpu.ref)} ms` +
    ` -> ratio ${(addCpu.shim / addCpu.ref).toFixed(2)}x (goal <= 2x)` +
    (Number.isNaN(addCpu.agent) ? '\n' : `; with the agent's CPU for the same ADD (${ms(addCpu.agent)} ms) ${((addCpu.shim + addCpu.agent) / addCpu.ref).toFixed(2)}x\n`);
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
