// bench/agent: one node with BENCH_AGENT_PODS (250) pods on the REAL tessera-agent, OVS (netdev) and OVN,
// wired by cnitool + tessera-cni as containerd would (the single-node fixture bench/cni uses; it writes each
// pod's annotation and logical switch port, as the watcher would). Pods accumulate: none is deleted until
// all are up. Measures ADD (incl. the wait for ovn-installed) p50/p99, the first and last 50; the agent's
// own port added -> ovn-installed; DEL; the agent's peak RSS; and its reconcile pass on a restart with
// every pod in place (one pod deleted from the API while the agent was down, so the pass has a port to remove).
// Memory against a reference in the same run: with every pod in place the agent is restarted as the executable built
// from the commit before the agent had its own Kubernetes client (bench/agent/reference.ts), as this one with
// NODE_OPTIONS=--max-semi-space-size=1, then as this one; each takes the same 25 ADDs and DELs, and their peak RSS
// and CPU are compared.
// Everything lives in netns named tab-*; the lab's stop() removes them and kills only its own daemons.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { spawnDaemon } from '../../lab/daemon.js';
import { run } from '../../lab/exec.js';
import { cnitool, delNetns, requireBuilt, tmpDir, type Run } from '../../testkit/cni.js';
import { agentAddTimings, startAgentNode, type AgentNode, type AgentPod } from '../../testkit/agent-node.js';
import { cpuMs, f1, pct, peakRssBytes, sleep, untilAsync } from '../lib/harness.js';
import { buildReferenceAgent, type ReferenceAgent } from './reference.js';

const N = Number(process.env.BENCH_AGENT_PODS ?? 250);
const EDGE = Math.min(50, Math.floor(N / 2));
const dir = tmpDir('tab-bench-');
const NET = `tab-bench-${process.pid}`;
const MB = 1048576;
const out = (s: string) => process.stdout.write(s + '\n');

function ok(r: Run, what: string): number {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}): ${r.stdout.trim()} ${r.stderr.trim()}`);
  return r.ms;
}

/** RssAnon / RssFile of a process now (MB): heap and stacks vs. mapped file pages (the executable's code). */
function rssSplit(pid: number): string {
  const st = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(st)?.[1] ?? NaN) / 1024;
  return `now ${f1(kb('VmRSS'))} MB = anonymous ${f1(kb('RssAnon'))} MB + file-backed ${f1(kb('RssFile'))} MB + shmem ${f1(kb('RssShmem'))} MB`;
}

/** The lab daemons whose CPU an ADD costs: [run dir, pidfile name]. */
const DAEMONS: [string, string][] = [['node1', 'tessera-agent'], ['node1', 'ovs-vswitchd'], ['node1', 'ovn-controller'], ['node1', 'ovsdb-server'], ['central', 'ovn-northd'], ['central', 'ovnsb_db'], ['central', 'ovnnb_db']];
function daemonCpu(node: AgentNode): number[] {
  return DAEMONS.map(([d, name]) => cpuMs(Number(readFileSync(join(node.lab.runDir, d, `${name}.pid`), 'utf8').trim())));
}

/** Coverage counters that say whether ADDs cost the daemons full recomputes: ovn-controller's logical flow runs, vswitchd's bridge reconfigurations. */
async function recomputes(node: AgentNode): Promise<{ lflowRun: number; bridgeReconfigure: number }> {
  const dir = node.lab.nodes[0].dir;
  const ctl = join(dir, `ovn-controller.${readFileSync(join(dir, 'ovn-controller.pid'), 'utf8').trim()}.ctl`);
  const read = async (target: string, counter: string) => Number((await run('ovs-appctl', ['-t', target, 'coverage/read-counter', counter]).catch(() => 'NaN')).trim());
  return { lflowRun: await read(ctl, 'lflow_run'), bridgeReconfigure: await read(join(dir, 'ovs-vswitchd.ctl'), 'bridge_reconfigure') };
}

const agentPid = (node: AgentNode): number => Number(readFileSync(join(node.lab.nodes[0].dir, 'tessera-agent.pid'), 'utf8').trim());
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The agent's "reconcile done" log lines (winston: `... reconcile done {json}`), in order. */
function reconcileLines(log: string): { ms: number; kept: number; removedPorts: number }[] {
  return readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('reconcile done {')).map((l) => JSON.parse(l.slice(l.indexOf('{'))) as { ms: number; kept: number; removedPorts: number });
}

/** Stops the node's agent (SIGTERM: pod ports stay) and starts it again with the same flags (as `exe` if given); returns ms to its first reconcile pass done. */
async function restartAgent(node: AgentNode, whileDown: () => Promise<void>, exe?: string, env?: Record<string, string>): Promise<{ readyMs: number; reconcile: { ms: number; kept: number; removedPorts: number } }> {
  const pid = agentPid(node);
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  if (exe) argv[0] = exe;
  const before = reconcileLines(node.agentLog).length;
  process.kill(pid, 'SIGTERM');
  await untilAsync(async () => !alive(pid), 15000, 'the agent to exit');
  await whileDown();
  const t0 = performance.now();
  spawnDaemon({ dir: node.lab.nodes[0].dir, name: 'tessera-agent', netns: node.nodeNetns, cmd: argv[0], args: argv.slice(1), env });
  let line: { ms: number; kept: number; removedPorts: number } | undefined;
  await untilAsync(async () => !!(line = reconcileLines(node.agentLog)[before]), 120000, 'the restarted agent\'s first reconcile pass', 20);
  return { readyMs: performance.now() - t0, reconcile: line! };
}

const CHURN = 25;

/**
 * CHURN more pods, one at a time ADDed, DELeted and removed (API object and netns; the node subnet has no room for
 * more than a couple beside the pods in place): the same work for each executable compared.
 */
async function churn(node: AgentNode, tool: ReturnType<typeof cnitool>, tag: string, args: (p: AgentPod) => string): Promise<void> {
  for (let i = 0; i < CHURN; i++) {
    const p = await node.addPod(`churn-${tag}-${i}`);
    ok(await tool.run('add', NET, p.netnsPath, { hostNetns: node.nodeNetns, cniArgs: args(p) }), `ADD ${p.name}`);
    ok(await tool.run('del', NET, p.netnsPath, { hostNetns: node.nodeNetns, cniArgs: args(p) }), `DEL ${p.name}`);
    await node.lab.kube!.delete(`/api/v1/namespaces/default/pods/${p.name}`);
    await delNetns(p.netns);
  }
}

async function main(): Promise<void> {
  requireBuilt();
  const ref: ReferenceAgent | undefined = await buildReferenceAgent(dir);
  out(`bench/agent: ${N} pods on one node (real tessera-agent, OVS netdev, OVN), sequential cnitool ADDs, pods accumulate; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const node = await startAgentNode({ prefix: 'tab-', stateDir: join(dir, 'lab') });
  const pods: AgentPod[] = [];
  try {
    const tool = cnitool(join(dir, 'net.d'));
    tool.conflist(NET, '1.0.0', [{ type: 'tessera-cni', agentSocket: node.agentSocket, logFile: join(dir, 'tessera-cni.log'), mtu: 1400 }]);
    const args = (p: AgentPod) => `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${p.name}`;
    const cov0 = await recomputes(node);
    const add: number[] = [];
    const cpuAt: number[][] = [];
    for (let i = 0; i < N; i++) {
      const p = await node.addPod(`scale-${i}`);
      pods.push(p);
      if (i === 0 || i === N - EDGE) cpuAt.push(daemonCpu(node));
      add.push(ok(await tool.run('add', NET, p.netnsPath, { hostNetns: node.nodeNetns, cniArgs: args(p) }), `ADD ${p.name}`));
      if (i === EDGE - 1 || i === N - 1) cpuAt.push(daemonCpu(node));
    }
    const cov1 = await recomputes(node);
    const timings = agentAddTimings(node.agentLog);
    const installed = pods.map((p) => timings.get(`default/${p.name}`)?.ovnInstalled ?? NaN).filter((x) => !Number.isNaN(x));
    const rss = peakRssBytes(agentPid(node));
    const split = rssSplit(agentPid(node));
    const first = add.slice(0, EDGE);
    const last = add.slice(-EDGE);
    out(`ADD through cnitool incl. ovn-installed, ${N} pods accumulating: p50 ${f1(pct(add, 50))} ms, p99 ${f1(pct(add, 99))} ms`);
    out(`  first ${EDGE}: p50 ${f1(pct(first, 50))} ms; last ${EDGE} (${N - EDGE + 1}..${N} pods): p50 ${f1(pct(last, 50))} ms, p99 ${f1(pct(last, 99))} ms (goal p50 < 100 ms at ${N} pods: ${pct(last, 50) < 100 ? 'met' : 'NOT met'})`);
    out(`  agent-measured port added -> ovn-installed: p50 ${f1(pct(installed, 50))} ms, p99 ${f1(pct(installed, 99))} ms; first ${EDGE} p50 ${f1(pct(installed.slice(0, EDGE), 50))} ms, last ${EDGE} p50 ${f1(pct(installed.slice(-EDGE), 50))} ms`);
    const phases = (xs: AgentPod[]) => (['annotation', 'netns', 'ovs', 'ovnInstalled'] as const).map((k) => `${k} ${f1(pct(xs.map((p) => timings.get(`default/${p.name}`)?.[k] ?? NaN), 50))}`).join(', ');
    out(`  agent ADD phases p50 (ms), first ${EDGE}: ${phases(pods.slice(0, EDGE))}; last ${EDGE}: ${phases(pods.slice(-EDGE))}`);
    const perAdd = (a: number[], b: number[]) => DAEMONS.map(([, name], j) => `${name} ${f1((b[j] - a[j]) / EDGE)}`).join(', ');
    out(`  CPU ms per ADD, first ${EDGE}: ${perAdd(cpuAt[0], cpuAt[1])}`);
    out(`  CPU ms per ADD, last ${EDGE}: ${perAdd(cpuAt[2], cpuAt[3])}`);
    out(`  during the ${N} ADDs: ovn-controller full logical-flow runs (lflow_run) ${cov1.lflowRun - cov0.lflowRun}, ovs-vswitchd bridge reconfigurations ${cov1.bridgeReconfigure - cov0.bridgeReconfigure}`);
    out(`agent peak RSS (VmHWM) with ${N} pods: ${f1(rss / MB)} MB (goal < 80 MB: ${rss < 80 * MB ? 'met' : 'NOT met'}); ${split}`);
    // The same restart and work for the reference executable and for this one with a smaller young generation.
    const ownExe = readFileSync(`/proc/${agentPid(node)}/cmdline`, 'utf8').split('\0')[0];
    const SEMI = '--max-semi-space-size=1';
    const variants = [...(ref ? [{ label: `the agent at ${ref.rev} (Kubernetes through client-node)`, exe: ref.exe, env: undefined }] : []), { label: `this agent with NODE_OPTIONS=${SEMI}`, exe: ownExe, env: { NODE_OPTIONS: SEMI } }];
    const measured: { label: string; peak: number; split: string; cpu: number }[] = [];
    for (const v of variants) {
      await restartAgent(node, async () => undefined, v.exe, v.env);
      const cpu0 = cpuMs(agentPid(node));
      await churn(node, tool, `v${measured.length}`, args);
      measured.push({ label: v.label, peak: peakRssBytes(agentPid(node)), split: rssSplit(agentPid(node)), cpu: cpuMs(agentPid(node)) - cpu0 });
    }

    // Restart with every pod in place; one pod object goes while the agent is down, so the pass removes its port.
    const gone = pods[pods.length - 1];
    const r = await restartAgent(node, async () => {
      await node.lab.kube!.delete(`/api/v1/namespaces/default/pods/${gone.name}`);
    }, ownExe);
    out(`agent restart with ${N} pod ports: start -> first reconcile pass done ${f1(r.readyMs)} ms; the pass itself ${r.reconcile.ms} ms (kept ${r.reconcile.kept}, removed ${r.reconcile.removedPorts} port of a pod deleted while the agent was down)`);
    out(`  restarted agent peak RSS ${f1(peakRssBytes(agentPid(node)) / MB)} MB`);
    const cpu0 = cpuMs(agentPid(node));
    await churn(node, tool, 'own', args);
    const own = peakRssBytes(agentPid(node));
    const ownCpu = cpuMs(agentPid(node)) - cpu0;
    out(`agent peak RSS after a restart with ${N - 1} pods in place and ${CHURN} ADDs + DELs: ${f1(own / MB)} MB (${rssSplit(agentPid(node))}); agent CPU per ADD+DEL ${f1(ownCpu / CHURN)} ms`);
    for (const m of measured) out(`  ${m.label}, same restart and work: ${f1(m.peak / MB)} MB (${m.split}); CPU per ADD+DEL ${f1(m.cpu / CHURN)} ms; this agent / it: ${(own / m.peak).toFixed(2)}×`);

    const del: number[] = [];
    for (const p of pods.slice(0, -1)) del.push(ok(await tool.run('del', NET, p.netnsPath, { hostNetns: node.nodeNetns, cniArgs: args(p) }), `DEL ${p.name}`));
    out(`DEL through cnitool, ${del.length} pods in place -> 0: p50 ${f1(pct(del, 50))} ms, p99 ${f1(pct(del, 99))} ms`);
  } finally {
    for (const p of pods) await delNetns(p.netns).catch(() => undefined);
    await node.stop();
    ref?.remove();
    await sleep(10);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
